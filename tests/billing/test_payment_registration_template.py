"""The payment-registration template in configs/: staff records a payment, finance (someone
else) confirms it, and the effect `billing.register_payment` posts it once — to the customer's
oldest invoices first, or to those the case names by amount, the rest to prepaid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.auth import services as auth
from formflow.billing import invoices, payments
from formflow.billing.models import Payment
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.demo import load_demo
from formflow.errors import Forbidden, Invalid
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.ledger.balances import balances
from formflow.workflows import engine


@pytest.fixture
def owing(app_ctx, en):
    """Demo customer C003 owing two invoices of 300.00 and 500.00."""
    load_demo(echo=lambda _line: None)
    customer = customers.get_by_code("C003")
    for key, amount in (("a", "300.00"), ("b", "500.00")):
        ledger.post(
            "management_fee",
            [
                ledger.Line(ledger.customer_account(customer, "receivable"), Decimal(amount)),
                ledger.Line(ledger.system_account("revenue_management_fee"), -Decimal(amount)),
            ],
            key=f"owed-{key}",
        )
        invoices.issue(customer, [invoices.Item("管理费", Decimal(amount))], issue_date=date(2026, 11, 1))
    db.session.commit()
    return customer


def _start(data):
    return cases.start("payment_registration", "C003", data, submit=True, actor=auth.find_user("staff"))


def test_a_confirmed_payment_pays_the_oldest_invoice_first_and_the_rest_goes_to_prepaid(owing):
    prepaid = balances(owing)["prepaid"]
    case = _start({"amount": 900.5, "paid_on": "2026-11-20", "method": "bank_transfer",
                   "bank_reference": "BOC-20261120-01"})  # fmt: skip
    assert case.state == "confirm" and db.session.execute(sa.select(Payment)).first() is None
    with pytest.raises(Forbidden):
        engine.perform(case, "confirm", auth.find_user("staff"))
    engine.perform(case, "confirm", auth.find_user("finance"))
    assert case.state == "confirmed"
    [payment] = db.session.execute(sa.select(Payment)).scalars()
    assert (payment.amount, payment.method, payment.reference, payment.case_id) == (
        Decimal("900.50"), "bank_transfer", "BOC-20261120-01", case.id,
    )  # fmt: skip
    assert invoices.open_invoices(owing.id) == []
    assert [(a.invoice.total, a.amount) for a in payment.allocations] == [
        (Decimal("300.00"), Decimal("300.00")), (Decimal("500.00"), Decimal("500.00")),
    ]  # fmt: skip
    assert balances(owing)["receivable"] == Decimal("0.00")
    assert balances(owing)["prepaid"] == prepaid + Decimal("100.50")


def test_a_payment_for_chosen_invoices_pays_those_by_amount(owing):
    later = invoices.open_invoices(owing.id)[1]
    case = _start({"amount": 500, "paid_on": "2026-11-20", "method": "online", "allocation": "chosen",
                   "allocations": [{"invoice": later.number, "amount": 500}]})  # fmt: skip
    engine.perform(case, "confirm", auth.find_user("finance"))
    assert next((i.number, i.status) for i in invoices.for_customer(owing.id)) == (later.number, "paid")
    assert [p.invoice.number for p in payments.for_customer(owing.id)[0].allocations] == [later.number]


def test_a_payment_naming_another_customers_invoice_refuses_the_confirmation(owing):
    case = _start({"amount": 100, "paid_on": "2026-11-20", "method": "online", "allocation": "chosen",
                   "allocations": [{"invoice": "INV-2026-999999", "amount": 100}]})  # fmt: skip
    with pytest.raises(Invalid) as refused:
        engine.perform(case, "confirm", auth.find_user("finance"))
    assert "INV-2026-999999" in refused.value.errors[0]["message"]
    db.session.rollback()
    assert db.session.execute(sa.select(Payment)).first() is None
