"""The billing calendar over random calendars: start days 28–31, leap years, every frequency —
periods contiguous, each on its anchor day clamped to the month's end, every period once however
the runs are cut, and a partial first period charged by days."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formflow.billing.calendar import Period, months_of, periods, prorated, shifted

starts = st.dates(min_value=date(1999, 1, 1), max_value=date(2099, 12, 31))
month_ends = st.builds(lambda year, month, day: shifted(date(year, month, 1), 0, day),
                       st.integers(1999, 2099), st.integers(1, 12), st.integers(28, 31))  # fmt: skip
frequencies = st.sampled_from([1, 3, 12])


def test_a_start_on_january_31_bills_february_28_or_29_never_march_3():
    assert [p.start for p in periods(date(2026, 1, 31), months=1, until=date(2026, 4, 30))] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30),
    ]  # fmt: skip
    assert [p.start for p in periods(date(2028, 1, 31), months=1, until=date(2028, 3, 1))] == [
        date(2028, 1, 31), date(2028, 2, 29),
    ]  # fmt: skip
    assert [p.start for p in periods(date(2027, 11, 30), months=3, until=date(2028, 6, 1))] == [
        date(2027, 11, 30), date(2028, 2, 29), date(2028, 5, 30),
    ]  # fmt: skip


@given(start=st.one_of(starts, month_ends), months=frequencies, span=st.integers(0, 2000))
def test_periods_are_contiguous_and_each_starts_on_its_clamped_anchor_day(start, months, span):
    until = start + timedelta(days=span)
    found = list(periods(start, months=months, until=until))
    assert found[0].start == start and found[-1].start <= until < found[-1].end
    for before, after in itertools.pairwise(found):
        assert before.end == after.start and before.start < after.start
    for period in found[1:]:
        month_days = (shifted(period.start.replace(day=1), 1) - timedelta(days=1)).day
        assert period.start.day == min(start.day, month_days)
        assert 28 * months - 3 <= period.days <= 31 * months + 1


@given(
    start=st.one_of(starts, month_ends), months=frequencies, cuts=st.lists(st.integers(0, 3000), max_size=6)
)
def test_runs_cut_anywhere_charge_every_period_exactly_once(start, months, cuts):
    """A fee run charges the periods due by its `now` not charged before: however the runs fall
    (a rerun, a run after a pause), the periods charged are exactly those of one run to the end."""
    charged: list[str] = []
    for cut in [*sorted(cuts), 3000]:
        due = [p.key for p in periods(start, months=months, until=start + timedelta(days=cut))]
        charged += [key for key in due if key not in charged]
    assert charged == [p.key for p in periods(start, months=months, until=start + timedelta(days=3000))]
    assert len(set(charged)) == len(charged)


@given(start=starts, months=frequencies, anchor_day=st.integers(1, 31), span=st.integers(0, 800))
def test_a_start_between_anchor_days_gives_one_partial_period_then_whole_ones(
    start, months, anchor_day, span
):
    found = list(periods(start, months=months, until=start + timedelta(days=span), anchor_day=anchor_day))
    amount = Decimal("1000.00")
    first = prorated(amount, found[0], months=months, anchor_day=anchor_day)
    assert Decimal("0") < first <= amount and first == first.quantize(Decimal("0.01"))
    for period in found[1:]:
        assert prorated(amount, period, months=months, anchor_day=anchor_day) == amount


def test_a_partial_month_is_charged_by_days_half_up_to_the_cent():
    first = next(periods(date(2026, 1, 15), months=1, until=date(2026, 1, 15), anchor_day=1))
    assert first == Period(date(2026, 1, 15), date(2026, 2, 1))
    assert prorated(Decimal("310.00"), first, months=1, anchor_day=1) == Decimal("170.00")  # 17 of 31 days
    assert prorated(Decimal("100.00"), first, months=1, anchor_day=1) == Decimal("54.84")  # 54.838…


def test_an_end_date_stops_the_periods_and_bad_plans_are_refused():
    ended = periods(date(2026, 1, 1), months=1, until=date(2026, 12, 31), end=date(2026, 3, 1))
    assert [p.key for p in ended] == ["2026-01-01", "2026-02-01"]
    with pytest.raises(ValueError):
        list(periods(date(2026, 1, 1), months=0, until=date(2026, 2, 1)))
    with pytest.raises(ValueError):
        list(periods(date(2026, 1, 1), months=1, until=date(2026, 2, 1), anchor_day=32))
    assert months_of("quarterly") == 3
    with pytest.raises(ValueError):
        months_of("weekly")
