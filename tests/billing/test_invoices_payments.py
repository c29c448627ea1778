"""Invoices for short fee charges (numbered per year, due the plan's days later, void by a
reversal) and payments: posted bank → receivable for the invoices they pay and the rest to
prepaid, allocated oldest first or to chosen invoices, once per key; bad input refused with its
pointer and nothing written."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.billing import fee_run, invoices, payments, plans
from formflow.billing.models import Invoice, Payment, PaymentAllocation
from formflow.customers import services as customers
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.ledger.balances import balances
from formflow.ledger.models import Journal

FEE = {"zh-CN": "月度管理费", "en": "Monthly management fee"}


@pytest.fixture
def owing(app_ctx):
    """A customer with 100.00 prepaid on a 300.00 monthly plan, charged January to March 2026:
    three invoices (200, 300, 300) of 800.00 in all."""
    customer = customers.create("IV01", "缴费客户", "B")
    customer.created_at = datetime(2025, 1, 1)
    ledger.post_for_customer(customer, "top_up", Decimal("100.00"), key="iv-top-up")
    plans.save_plan(
        "monthly",
        {"zh-CN": "月费", "en": "Monthly"},
        {"items": [{"id": "fee", "title": FEE, "when": "period", "frequency": "monthly", "amount": "300.00"}],
         "due_days": 10},
    )  # fmt: skip
    plans.subscribe(customer, "monthly", date(2026, 1, 5))
    db.session.commit()
    for day in (date(2026, 1, 5), date(2026, 2, 5), date(2026, 3, 5)):
        fee_run.run_fees(day)
    return customer


def _invoices(customer) -> list[Invoice]:
    return list(
        db.session.execute(
            sa.select(Invoice).where(Invoice.customer_id == customer.id).order_by(Invoice.id)
        ).scalars()
    )


def test_each_short_charge_gets_an_invoice_numbered_in_its_year_due_the_plans_days_later(owing):
    found = _invoices(owing)
    assert [(i.number, i.total, i.issue_date, i.due_date, i.status) for i in found] == [
        ("INV-2026-000001", Decimal("200.00"), date(2026, 1, 5), date(2026, 1, 15), "issued"),
        ("INV-2026-000002", Decimal("300.00"), date(2026, 2, 5), date(2026, 2, 15), "issued"),
        ("INV-2026-000003", Decimal("300.00"), date(2026, 3, 5), date(2026, 3, 15), "issued"),
    ]
    assert [item.period for item in found[0].items] == ["2026-01-05"]
    assert found[0].prepaid_at_issue == Decimal("0.00")
    assert invoices.status_on(found[2], date(2026, 3, 15)) == "issued"
    assert invoices.status_on(found[2], date(2026, 3, 16)) == "overdue"
    fee_run.run_fees(date(2026, 3, 5))  # a rerun issues nothing
    assert len(_invoices(owing)) == 3
    assert invoices.next_number(2027) == "INV-2027-000001"


def test_a_payment_pays_the_oldest_invoices_first_and_the_rest_goes_to_prepaid(owing):
    payment = payments.register(
        owing, "600.00", method="bank_transfer", paid_on="2026-03-20", key="pay-1", reference="BOC-1"
    )
    db.session.commit()
    first, second, third = _invoices(owing)
    assert (first.status, second.status, third.status) == ("paid", "paid", "partially_paid")
    assert (third.paid, third.outstanding) == (Decimal("100.00"), Decimal("200.00"))
    assert balances(owing)["receivable"] == Decimal("200.00")
    assert [(a.amount, a.late) for a in payment.allocations] == [
        (Decimal("200.00"), True), (Decimal("300.00"), True), (Decimal("100.00"), True),
    ]  # fmt: skip
    more = payments.register(owing, "500.00", method="online", paid_on="2026-03-21", key="pay-2")
    db.session.commit()
    assert more.to_prepaid == Decimal("300.00")
    assert balances(owing) == {**balances(owing), "receivable": Decimal("0.00"), "prepaid": Decimal("300.00")}
    journal = db.session.get(Journal, more.journal_id)
    assert sorted((e.account.code, e.amount) for e in journal.entries) == [
        ("customer:IV01:prepaid", Decimal("-300.00")),
        ("customer:IV01:receivable", Decimal("-200.00")),
        ("system:bank", Decimal("500.00")),
    ]


def test_the_same_payment_twice_posts_once_and_other_details_under_its_key_conflict(owing):
    first = payments.register(owing, "50.00", method="online", paid_on="2026-03-20", key="same")
    again = payments.register(owing, "50.00", method="online", paid_on="2026-03-20", key="same")
    assert again.id == first.id and getattr(again, "replayed", False)
    with pytest.raises(Conflict):
        payments.register(owing, "51.00", method="online", paid_on="2026-03-20", key="same")
    db.session.commit()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Payment)).scalar_one() == 1
    assert _invoices(owing)[0].paid == Decimal("50.00")


def test_a_payment_goes_to_the_invoices_chosen_by_amount(owing):
    _first, second, third = _invoices(owing)
    payments.register(
        owing, "400.00", method="bank_transfer", paid_on="2026-03-10", key="chosen",
        chosen=[payments.Chosen(third.number, "300.00"), payments.Chosen(second.number, "50")],
    )  # fmt: skip
    db.session.commit()
    first, second, third = _invoices(owing)
    assert (first.paid, second.paid, third.paid) == (Decimal("0"), Decimal("50.00"), Decimal("300.00"))
    assert third.status == "paid" and third.paid_on == date(2026, 3, 10)
    allocation = db.session.execute(
        sa.select(PaymentAllocation).where(PaymentAllocation.invoice_id == third.id)
    ).scalar_one()
    assert allocation.late is False  # paid before its due date, 2026-03-15
    assert balances(owing)["prepaid"] == Decimal("50.00")


@pytest.mark.parametrize(
    ("amount", "chosen", "pointer"),
    [
        ("0", None, "/amount"),
        ("-5", None, "/amount"),
        ("1.005", None, "/amount"),
        ("abc", None, "/amount"),
        ("100", [("INV-1999-000001", "10")], "/allocations/0/invoice"),
        ("100", [(2, "301")], "/allocations/0/amount"),
        ("100", [(1, "100"), (2, "50")], "/allocations"),
        ("100", [(1, "10"), (1, "20")], "/allocations/1/invoice"),
    ],
)
def test_bad_payments_are_refused_with_their_pointer_and_nothing_is_written(owing, amount, chosen, pointer):
    numbers = [i.number for i in _invoices(owing)]
    picked = [
        payments.Chosen(numbers[which] if isinstance(which, int) else which, part)
        for which, part in chosen or []
    ]
    before = balances(owing)
    with pytest.raises(Invalid) as refused:
        payments.register(owing, amount, method="online", paid_on="2026-03-20", key="bad", chosen=picked)
    assert pointer in [problem["pointer"] for problem in refused.value.errors]
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Payment)).scalar_one() == 0
    assert balances(owing) == before


def test_an_unpaid_invoice_is_void_by_a_reversal_and_a_paid_one_is_not(owing):
    first, second, _third = _invoices(owing)
    with pytest.raises(Invalid):
        invoices.void(first, "  ")
    invoices.void(first, "开错了")
    db.session.commit()
    assert first.status == "void" and first.outstanding == Decimal("0.00")
    assert balances(owing)["receivable"] == Decimal("600.00")
    journal = db.session.get(Journal, first.void_journal_id)
    assert journal.kind == "adjustment" and journal.reference == first.number
    with pytest.raises(Conflict):
        invoices.void(first, "again")
    payments.register(owing, "10.00", method="online", paid_on="2026-03-20", key="p")
    with pytest.raises(Conflict):
        invoices.void(second, "paid a bit")
