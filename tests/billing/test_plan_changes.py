"""A plan whose frequency changes while customers are on it, over random calendars (start days
28–31, leap years, monthly ↔ quarterly ↔ yearly at random moments, runs at random gaps): every
day from the start to the last run is charged exactly once — the periods one after another, none
overlapping, none missing — a period partly charged under the old frequency charged from where
that ended, by days."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formflow.billing import fee_run, plans
from formflow.billing.calendar import shifted
from formflow.billing.models import FeeCharge
from formflow.customers import services as customers
from formflow.extensions import db

AMOUNT = Decimal("300.00")
TITLE = {"zh-CN": "管理费", "en": "Management fee"}
NAMES = {"zh-CN": "变更方案", "en": "Changing plan"}
SERIAL = itertools.count()

month_ends = st.builds(lambda year, month, day: shifted(date(year, month, 1), 0, day),
                       st.integers(2023, 2025), st.integers(1, 12), st.integers(28, 31))  # fmt: skip
frequencies = st.sampled_from(["monthly", "quarterly", "yearly"])
steps = st.lists(st.tuples(st.integers(1, 240), frequencies), min_size=1, max_size=5)


def _plan(key: str, frequency: str) -> None:
    item = {"id": "fee", "title": TITLE, "when": "period", "frequency": frequency, "amount": str(AMOUNT)}
    plans.save_plan(key, NAMES, {"items": [item]})


def _rows(subscription_id: int) -> list[FeeCharge]:
    query = sa.select(FeeCharge).where(FeeCharge.subscription_id == subscription_id)
    return list(db.session.execute(query.order_by(FeeCharge.period)).scalars())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=month_ends, first=frequencies, changes=steps)
def test_every_day_is_charged_exactly_once_however_the_frequency_changes(app_ctx, start, first, changes):
    serial = next(SERIAL)
    key = f"changing_{serial}"
    _plan(key, first)
    customer = customers.create(f"PC{serial:04d}", "变更客户", "B")
    customer.created_at = datetime(2020, 1, 1)
    subscription = plans.subscribe(customer, key, start)
    db.session.commit()
    today = start
    for gap, frequency in changes:
        today += timedelta(days=gap)
        fee_run.run_fees(today)
        _plan(key, frequency)  # the admin changes the plan: the next run bills by it
        db.session.commit()
    today += timedelta(days=1)
    fee_run.run_fees(today)
    rows = _rows(subscription.id)
    assert all(row.status == "short" for row in rows)  # nothing prepaid: each to the receivable
    assert date.fromisoformat(rows[0].period) == start
    for before, after in itertools.pairwise(rows):
        assert before.period_end == date.fromisoformat(after.period), (before.period, after.period)
    assert date.fromisoformat(rows[-1].period) <= today < rows[-1].period_end  # today's period charged
    assert all(Decimal("0") < row.amount <= AMOUNT for row in rows)
    again = fee_run.run_fees(today)
    assert again.posted + again.short + again.failed == 0  # and a rerun charges nothing
    subscription.status = "ended"  # out of the next example's runs
    db.session.commit()
