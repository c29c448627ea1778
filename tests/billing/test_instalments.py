"""Instalment plans: what is left of an invoice split into dated parts that add up exactly; above
the tier's threshold a second person approves; payments go to the instalments oldest first,
each with its own status and lateness."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest

from formflow.auth.models import User
from formflow.billing import instalments, invoices, payments
from formflow.customers import services as customers
from formflow.errors import Conflict, Forbidden, Invalid
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.tables.services import create_global_table, save_global_table

_numbers = itertools.count(1)


def _user(make_user, role: str) -> User:
    """A new user holding `role` (two calls: two people)."""
    return db.session.get(User, make_user(f"{role}{next(_numbers)}", roles=[role]))


@pytest.fixture
def invoice(app_ctx):
    customer = customers.create("IN01", "分期客户", "B")
    ledger.post(
        "management_fee",
        [
            ledger.Line(ledger.customer_account(customer, "receivable"), Decimal("900.00")),
            ledger.Line(ledger.system_account("revenue_management_fee"), Decimal("-900.00")),
        ],
        key="in-owed",
    )
    return invoices.issue(
        customer, [invoices.Item("季度管理费", Decimal("900.00"))], issue_date=date(2026, 1, 1)
    )


def test_a_plan_that_adds_up_is_proposed_and_a_second_person_approves_it(invoice, make_user):
    proposer, approver = _user(make_user, "finance"), _user(make_user, "manager")
    parts = [("2026-02-01", "300"), ("2026-03-01", "300.00"), ("2026-04-01", 300)]
    created = instalments.propose(invoice, parts, actor=proposer)
    assert [(i.seq, i.status) for i in created] == [(1, "proposed"), (2, "proposed"), (3, "proposed")]
    with pytest.raises(Forbidden):
        instalments.approve(invoice, actor=proposer)
    instalments.approve(invoice, actor=approver)
    assert [i.status for i in invoice.instalments] == ["open", "open", "open"]
    with pytest.raises(Conflict):
        instalments.propose(invoice, parts, actor=proposer)


def test_payments_go_to_the_instalments_oldest_first_each_with_its_status(invoice, make_user):
    instalments.propose(
        invoice, [("2026-02-01", "400"), ("2026-03-01", "500")], actor=_user(make_user, "finance")
    )
    instalments.approve(invoice, actor=_user(make_user, "manager"))
    customer = invoice.customer
    payments.register(customer, "450", method="online", paid_on="2026-02-03", key="i1")
    first, second = invoice.instalments
    assert (first.status, first.paid_on, second.status, second.paid) == (
        "paid", date(2026, 2, 3), "partially_paid", Decimal("50.00"),
    )  # fmt: skip
    assert invoice.status == "partially_paid"
    assert invoices.instalment_status_on(second, date(2026, 3, 2)) == "overdue"
    assert invoices.status_on(invoice, date(2026, 2, 20)) == "partially_paid"  # the next one is not due
    assert invoices.status_on(invoice, date(2026, 3, 2)) == "overdue"
    [allocation] = payments.for_customer(customer.id)[0].allocations[:1]
    assert allocation.late is True  # the first instalment was due on 2026-02-01
    payments.register(customer, "450", method="online", paid_on="2026-02-20", key="i2")
    assert (second.status, invoice.status) == ("paid", "paid")


def test_below_the_tiers_threshold_a_plan_holds_at_once(invoice, make_user):
    create_global_table(
        instalments.APPROVAL_TABLE, {"zh-CN": "分期审批", "en": "Instalment approval"},
        [{"name": "tier", "type": "text"}, {"name": "approval_above", "type": "money"}], "tier",
    )  # fmt: skip
    save_global_table(instalments.APPROVAL_TABLE, [["B", 1000]], expected_number=1)
    created = instalments.propose(
        invoice, [("2026-02-01", "450"), ("2026-03-01", "450")], actor=_user(make_user, "finance")
    )
    assert {i.status for i in created} == {"open"}


@pytest.mark.parametrize(
    ("parts", "pointer"),
    [
        ([("2026-02-01", "300"), ("2026-03-01", "300")], "/instalments"),  # 600 of 900
        ([("2026-02-01", "0"), ("2026-03-01", "900")], "/instalments/0/amount"),
        ([("2026-02-01", "450.001"), ("2026-03-01", "449.999")], "/instalments/0/amount"),
        ([("2026-03-01", "450"), ("2026-02-01", "450")], "/instalments/1/due_date"),
        ([("2025-12-01", "450"), ("2026-02-01", "450")], "/instalments/0/due_date"),
        ([("31/02/2026", "450"), ("2026-02-01", "450")], "/instalments/0/due_date"),
        ([("2026-02-01", "900")], "/instalments"),
    ],
)
def test_a_plan_that_does_not_add_up_is_refused_with_its_pointer(invoice, make_user, parts, pointer):
    with pytest.raises(Invalid) as refused:
        instalments.propose(invoice, parts, actor=_user(make_user, "finance"))
    assert pointer in [problem["pointer"] for problem in refused.value.errors]
    assert invoice.instalments == []


def test_a_proposed_plan_may_be_withdrawn_and_the_invoice_is_due_as_before(invoice, make_user):
    finance = _user(make_user, "finance")
    instalments.propose(invoice, [("2026-02-01", "450"), ("2026-03-01", "450")], actor=finance)
    instalments.withdraw(invoice, actor=finance)
    assert {i.status for i in invoice.instalments} == {"cancelled"}
    assert invoices.status_on(invoice, date(2026, 1, 17)) == "overdue"  # due 2026-01-16 as issued
    created = instalments.propose(invoice, [("2026-02-01", "450"), ("2026-03-01", "450")], actor=finance)
    assert [i.seq for i in created] == [3, 4]
