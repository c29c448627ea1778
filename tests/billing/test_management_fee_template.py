"""The management-fee template in configs/ subscribes a customer through finance's approval (the
effect `billing.subscribe`, once per case); the fee run then charges the tier's monthly fee from
the demo's `management_fees` table, the rest of a short balance to the receivable."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.auth import services as auth
from formflow.billing import fee_run
from formflow.billing.models import Subscription
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.demo import load_demo
from formflow.errors import Invalid
from formflow.extensions import db, utcnow
from formflow.ledger import services as ledger
from formflow.ledger.balances import balances
from formflow.workflows import engine


@pytest.fixture
def customer(app_ctx, en):
    load_demo(echo=lambda _line: None)
    found = customers.get_by_code("C003")  # tier B: 800.00 a month in the demo's table
    ledger.post_for_customer(found, "top_up", Decimal("1000.00"), key="mf-seed", memo="预存")
    return found


def test_finance_approves_the_subscription_and_the_fee_run_charges_it(customer):
    start = utcnow().date()
    data = {"start_date": start.isoformat(), "note": "新签约"}
    case = cases.start("management_fee", "C003", data, submit=True, actor=auth.find_user("staff"))
    assert case.state == "review"
    assert db.session.execute(sa.select(Subscription)).first() is None  # nothing before approval
    engine.perform(case, "approve", auth.find_user("finance"))
    assert case.state == "subscribed"
    [subscription] = db.session.execute(sa.select(Subscription)).scalars()
    assert (subscription.customer_id, subscription.start_date, subscription.case_id) == (
        customer.id,
        start,
        case.id,
    )
    db.session.commit()
    report = fee_run.run_fees(start + timedelta(days=32))  # this month's period and the next one's
    assert report.charged == Decimal("1600.00") and report.short == 1
    assert balances(customer)["prepaid"] == Decimal("0.00")
    assert balances(customer)["receivable"] == Decimal("600.00")


def test_a_start_before_the_customer_was_registered_refuses_the_approval(customer):
    data = {"start_date": "2020-01-01"}
    case = cases.start("management_fee", "C003", data, submit=True, actor=auth.find_user("staff"))
    with pytest.raises(Invalid) as refused:
        engine.perform(case, "approve", auth.find_user("finance"))
    assert "before the customer was registered" in " ".join(
        error["message"] for error in refused.value.errors
    )
