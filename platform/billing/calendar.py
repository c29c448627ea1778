"""The billing calendar: the periods of a subscription and what a partial first period costs.

A subscription bills every `months` months (1 monthly, 3 quarterly, 12 yearly) on its anchor
day. Each period start is worked out from the anchor itself, never from the period before, with
the day clamped to the month's end: anchored on January 31, the periods start on February 28
(29 in a leap year), March 31, April 30, … — never March 3, and never drifting to the 28th.
A period runs from its start (included) to the next period's start (excluded), so the periods
of a subscription are contiguous and each is identified by its start date (the fee run's key
`fee:{subscription}:{period start}`).

Pro-rata (a plan's choice): a service that starts between two anchor days pays for its first,
partial period by days — amount × days used ÷ days of that whole period, rounded half up to the
cent; the periods after it are whole.

    periods(date(2026, 1, 31), months=1, until=date(2026, 4, 30))
    -> [Period(2026-01-31, 2026-02-28), Period(2026-02-28, 2026-03-31), Period(2026-03-31, 2026-04-30),
        Period(2026-04-30, 2026-05-31)]
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

FREQUENCIES = {"monthly": 1, "quarterly": 3, "yearly": 12}
CENT = Decimal("0.01")


@dataclass(frozen=True, order=True)
class Period:
    start: date  # included
    end: date  # excluded: the next period's start

    @property
    def key(self) -> str:
        return self.start.isoformat()

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def months_of(frequency: str) -> int:
    """1, 3 or 12 for monthly, quarterly, yearly; ValueError for anything else."""
    try:
        return FREQUENCIES[frequency]
    except KeyError:
        raise ValueError(f"unknown frequency {frequency!r}") from None


def shifted(anchor: date, months: int, anchor_day: int | None = None) -> date:
    """`anchor` moved by `months` months, on `anchor_day` (default: the anchor's own day)
    clamped to the end of the month it lands in."""
    day = anchor_day or anchor.day
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def anchor_on_or_before(moment: date, anchor_day: int) -> date:
    """The latest anchor date (day `anchor_day`, clamped) on or before `moment`."""
    this_month = shifted(moment.replace(day=1), 0, anchor_day)
    return this_month if this_month <= moment else shifted(moment.replace(day=1), -1, anchor_day)


def periods(
    start: date, *, months: int, until: date, anchor_day: int | None = None, end: date | None = None
) -> Iterator[Period]:
    """The periods of a subscription starting on `start`, billed every `months` months on
    `anchor_day` (default: the start's day), that start on or before `until` and before the
    subscription's `end` (excluded). The first runs from `start` to the next anchor date when
    the start is not on an anchor day (a partial period)."""
    if months < 1:
        raise ValueError("a period is at least one month long")
    day = anchor_day or start.day
    if not 1 <= day <= 31:
        raise ValueError("an anchor day is from 1 to 31")
    base = anchor_on_or_before(start, day)
    index = 0
    current = start
    while current <= until and (end is None or current < end):
        index += 1
        following = shifted(base, index * months, day)
        yield Period(current, following)
        current = following


def prorated(amount: Decimal, period: Period, *, months: int, anchor_day: int) -> Decimal:
    """What `period` costs of a whole period's `amount`: all of it when the period is whole,
    else by days (days used ÷ days of the whole period it is part of), half up to the cent."""
    whole_start = anchor_on_or_before(period.start, anchor_day)
    if months > 1:  # the whole period the partial one ends, counted back from its end
        whole_start = shifted(period.end, -months, anchor_day)
    whole = Period(whole_start, period.end)
    if whole.days <= 0 or period.days >= whole.days:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return (amount * period.days / whole.days).quantize(CENT, rounding=ROUND_HALF_UP)
