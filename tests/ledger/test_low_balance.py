"""Low-balance alerts: a posting that takes the prepaid balance from at or above the threshold
to below it keeps a notice for the customer and tells the staff, once per crossing; exactly at
the threshold is not below it; the customer's own threshold wins over the tier's."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow import tables
from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import alerts
from formflow.ledger import services as ledger
from formflow.ledger.models import LowBalanceAlert
from formflow.workflows.models import Notification


@pytest.fixture
def customer(app_ctx):
    alerts.create_threshold_table([["A", 500], ["B", 100]])
    found = customers.create("LB01", "低余额客户", "B")
    ledger.post_for_customer(found, "top_up", Decimal("150.00"), key="seed")
    return found


def _use(customer, amount: str, key: str) -> None:
    ledger.post_for_customer(customer, "usage", Decimal(amount), key=key)


def _alerts(customer) -> list[LowBalanceAlert]:
    return list(
        db.session.execute(
            sa.select(LowBalanceAlert)
            .where(LowBalanceAlert.customer_id == customer.id)
            .order_by(LowBalanceAlert.id)
        ).scalars()
    )


def test_reaching_the_threshold_exactly_is_not_below_it_and_one_cent_less_is(customer):
    _use(customer, "50.00", "to-100")  # 150 -> 100.00: at the threshold, not below
    assert _alerts(customer) == []
    _use(customer, "0.01", "to-99.99")
    (alert,) = _alerts(customer)
    assert (alert.balance_before, alert.balance_after, alert.threshold) == (
        Decimal("100.00"),
        Decimal("99.99"),
        Decimal("100.00"),
    )
    assert "99.99" in alert.body and "100.00" in alert.body and "请及时充值" in alert.body
    staff = db.session.execute(sa.select(Notification).where(Notification.role == "staff")).scalars().all()
    assert [n.subject for n in staff] == ["预存余额不足：低余额客户（LB01）"]


def test_once_per_crossing_and_again_after_the_balance_was_back_above(customer):
    _use(customer, "60", "u1")  # 90: crossed
    _use(customer, "10", "u2")  # 80: still below, no second alert
    assert len(_alerts(customer)) == 1
    ledger.post_for_customer(customer, "top_up", Decimal("20"), key="t")  # 100: back at the threshold
    _use(customer, "1", "u3")  # 99: crossed again
    assert len(_alerts(customer)) == 2


def test_the_customers_own_threshold_wins_over_its_tiers(customer):
    prepaid = ledger.customer_account(customer, "prepaid")
    prepaid.alert_below = Decimal("20.00")
    db.session.flush()
    _use(customer, "60", "u1")  # 90: below the tier's 100 but not the customer's 20
    assert _alerts(customer) == []
    _use(customer, "75", "u2")  # 15
    assert [a.threshold for a in _alerts(customer)] == [Decimal("20.00")]


def test_a_refused_posting_leaves_no_alert(customer):
    with pytest.raises(Invalid):  # the shortfall
        _use(customer, "500", "too-much")
    assert _alerts(customer) == []


def test_a_new_version_of_the_thresholds_table_counts_from_the_next_posting(customer):
    _use(customer, "20", "u1")  # 130: above the tier's 100
    latest = tables.latest_global_version(tables.get_global_table("low_balance_thresholds"))
    tables.save_global_table(
        "low_balance_thresholds", [["A", 500], ["B", 125]], expected_number=latest.number
    )
    _use(customer, "10", "u2")  # 120: below the new 125
    assert [(a.balance_before, a.threshold) for a in _alerts(customer)] == [
        (Decimal("130.00"), Decimal("125.00"))
    ]
