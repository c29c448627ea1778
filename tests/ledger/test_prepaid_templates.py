"""The prepaid templates in configs/ move money as a user would see it: a top-up credits the
prepaid balance only when finance confirms it, a refund is at most the balance and above the
tier's threshold goes to a manager, and a manual usage charge never takes the balance below zero."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases import uploads
from formflow.customers import services as customers
from formflow.demo import load_demo
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import balances
from formflow.ledger import services as ledger
from formflow.ledger.models import Journal
from formflow.ledger.verify import verify
from formflow.processes.models import Process
from formflow.records.models import Case
from formflow.workflows import engine

BANK_ACCOUNT = {
    "account_name": "华东建材有限公司",
    "bank_name": "中国工商银行上海分行",
    "account_number": "6222020200112233",
}


@pytest.fixture
def customer(app_ctx, en):
    """The demo loaded (C001 is a tier A customer: a manager approves refunds above 20,000.00)."""
    load_demo(echo=lambda _line: None)
    return customers.get_by_code("C001")


def _prepaid(customer) -> Decimal:
    return balances.balances(customer)["prepaid"]


def _journals(case_id: int) -> list[Journal]:
    query = sa.select(Journal).where(Journal.case_id == case_id).order_by(Journal.id)
    return list(db.session.execute(query).scalars())


def _seed(customer, amount: str) -> None:
    ledger.post_for_customer(customer, "top_up", Decimal(amount), key=f"seed:{amount}")


def _refund(amount: str):
    data = {"amount": Decimal(amount), "reason": "overpaid", **BANK_ACCOUNT}
    return cases.start("prepaid_refund", "C001", data, submit=True, actor=auth.find_user("staff"))


def _messages(refused: pytest.ExceptionInfo) -> str:
    return " ".join(error["message"] for error in refused.value.errors)


def test_a_top_up_is_credited_only_when_finance_confirms_it(customer):
    staff = auth.find_user("staff")
    receipt = FileStorage(
        io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\n"), "回单.pdf", content_type="application/pdf"
    )
    data = {
        "amount": Decimal("5000.00"),
        "received_on": "2026-11-20",
        "method": "bank_transfer",
        "bank_reference": "ICBC-20261120-07",
        "purpose": "预付 12 月服务费",
        "receipt": uploads.store_upload("/receipt", receipt, {}, actor=staff),
    }
    before = _prepaid(customer)
    case = cases.start("prepaid_topup", "C001", data, submit=True, actor=staff)
    assert case.state == "confirm"
    assert _prepaid(customer) == before and _journals(case.id) == []  # nothing before confirmation

    engine.perform(case, "confirm", auth.find_user("finance"))
    assert case.state == "posted"
    assert _prepaid(customer) == before + Decimal("5000.00")
    [journal] = _journals(case.id)
    assert (journal.kind, journal.memo) == ("top_up", "预存充值")
    assert verify().ok


def test_a_top_up_with_a_bank_transfer_needs_its_reference(customer):
    data = {"amount": Decimal("100.00"), "received_on": "2026-11-20", "method": "bank_transfer"}
    with pytest.raises(Invalid) as refused:
        cases.start("prepaid_topup", "C001", data, submit=True, actor=auth.find_user("staff"))
    assert "/data/bank_reference" in {error["pointer"] for error in refused.value.errors}


def test_a_refund_within_the_threshold_is_approved_by_finance_and_posted(customer):
    _seed(customer, "10000.00")
    case = _refund("3000.00")
    assert case.state == "finance_review"
    engine.perform(case, "approve", auth.find_user("finance"))
    assert case.state == "refunded"
    assert _prepaid(customer) == Decimal("7000.00")
    [journal] = _journals(case.id)
    assert (journal.kind, journal.memo) == ("refund", "预存退款")
    assert verify().ok


def test_a_refund_above_the_threshold_goes_to_a_manager(customer):
    _seed(customer, "30000.00")
    case = _refund("25000.00")
    finance = auth.find_user("finance")
    with pytest.raises(Invalid) as refused:
        engine.perform(case, "approve", finance)
    assert "a manager must approve it" in _messages(refused)
    assert case.state == "finance_review" and _prepaid(customer) == Decimal("30000.00")

    engine.perform(case, "escalate", finance, comment="超过 A 级阈值")
    assert case.state == "manager_review"
    assert _journals(case.id) == []
    engine.perform(case, "approve", auth.find_user("manager"))
    assert case.state == "refunded"
    assert _prepaid(customer) == Decimal("5000.00")
    assert [journal.kind for journal in _journals(case.id)] == ["refund"]
    assert verify().ok


def test_a_refund_within_the_threshold_cannot_be_escalated(customer):
    _seed(customer, "10000.00")
    case = _refund("3000.00")
    with pytest.raises(Invalid) as refused:
        engine.perform(case, "escalate", auth.find_user("finance"))
    assert "finance approves it directly" in _messages(refused)


def test_a_refund_above_the_balance_is_refused_at_submit(customer):
    _seed(customer, "1000.00")
    db.session.commit()  # the demo and the balance stay; the refused submission rolls back
    with pytest.raises(Invalid) as refused:
        _refund("1500.00")
    assert "more than the customer's current prepaid balance" in _messages(refused)
    db.session.rollback()
    refunds = sa.select(Case.id).join(Case.process).where(Process.key == "prepaid_refund")
    assert db.session.execute(refunds).first() is None
    assert _prepaid(customers.get_by_code("C001")) == Decimal("1000.00")


def test_usage_approved_by_finance_is_charged(customer):
    _seed(customer, "500.00")
    data = {"amount": Decimal("120.50"), "description": "11 月仓储费", "reference": "WH-2026-11"}
    case = cases.start("prepaid_usage", "C001", data, submit=True, actor=auth.find_user("staff"))
    assert case.state == "review"
    engine.perform(case, "approve", auth.find_user("finance"))
    assert case.state == "posted"
    assert _prepaid(customer) == Decimal("379.50")
    assert [journal.kind for journal in _journals(case.id)] == ["usage"]
    assert verify().ok


def test_usage_beyond_the_balance_refuses_the_approval_and_posts_nothing(customer):
    _seed(customer, "500.00")
    data = {"amount": Decimal("600.00"), "description": "超额使用费"}
    case = cases.start("prepaid_usage", "C001", data, submit=True, actor=auth.find_user("staff"))
    db.session.commit()  # the submitted case stays; the refused approval rolls back
    case_id = case.id
    with pytest.raises(Invalid) as refused:
        engine.perform(case, "approve", auth.find_user("finance"))
    assert "The prepaid balance is 500.00, 100.00 short of 600.00." in _messages(refused)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Case, case_id).state == "review"
    assert _journals(case_id) == []
    assert _prepaid(customers.get_by_code("C001")) == Decimal("500.00")
