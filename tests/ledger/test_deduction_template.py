"""configs/deduction.json moves money: approval executes the deduction (prepaid, the shortfall
to receivable), the customer's notice carries the amount and the balance after it, and a
dispute decided for the customer posts the reversal."""

from __future__ import annotations

import io
from decimal import Decimal

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases import uploads
from formflow.customers import services as customers
from formflow.demo import load_demo
from formflow.extensions import db
from formflow.ledger import balances
from formflow.ledger import services as ledger
from formflow.ledger.models import Journal
from formflow.ledger.verify import verify
from formflow.workflows import engine, history
from formflow.workflows.models import NoticeDocument


def _deduction(amount: str):
    staff = auth.find_user("staff")
    upload = FileStorage(
        io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\n"), "单据.pdf", content_type="application/pdf"
    )
    data = {
        "reason": "quality",
        "amount": Decimal(amount),
        "incident_date": "2026-11-20",
        "evidence": uploads.store_upload("/evidence", upload, {}, actor=staff),
    }
    case = cases.start("deduction", "C001", data, submit=True, actor=staff)
    engine.perform(case, "approve", auth.find_user("finance"))
    return case


def test_an_approved_deduction_posts_and_its_notice_tells_the_balance_after(app_ctx, zh):
    load_demo(echo=lambda _line: None)
    customer = customers.get_by_code("C001")
    ledger.post_for_customer(customer, "top_up", Decimal("100.00"), key="seed")
    case = _deduction("80.00")
    assert case.state == "executed"
    assert balances.balances(customer)["prepaid"] == Decimal("20.00")
    notice = db.session.execute(
        sa.select(NoticeDocument).where(NoticeDocument.case_id == case.id)
    ).scalar_one()
    assert "扣款金额：80.00 元；扣款后预存余额 20.00 元。" in notice.body
    said = [entry.summary for entry in history.timeline(case) if entry.kind == "effect"]
    assert any(s.startswith("已记账：扣款 80.00") and s.endswith("预存余额现为 20.00。") for s in said), said

    second = _deduction("50.00")  # 20.00 left: 30.00 becomes receivable
    found = balances.balances(customer)
    assert (found["prepaid"], found["receivable"]) == (Decimal("0.00"), Decimal("30.00"))
    notice = db.session.execute(
        sa.select(NoticeDocument).where(NoticeDocument.case_id == second.id)
    ).scalar_one()
    assert "应付未付 30.00 元" in notice.body
    assert verify().ok


def test_a_dispute_decided_for_the_customer_reverses_the_deduction(app_ctx, zh):
    load_demo(echo=lambda _line: None)
    customer = customers.get_by_code("C001")
    ledger.post_for_customer(customer, "top_up", Decimal("100.00"), key="seed")
    case = _deduction("80.00")
    engine.perform(case, "dispute", auth.find_user("staff"), comment="客户提供了新的收货记录")
    engine.perform(case, "reverse", auth.find_user("manager"), comment="证据不足，撤销")
    assert case.state == "reversed"
    assert balances.balances(customer)["prepaid"] == Decimal("100.00")
    kinds = (
        db.session.execute(sa.select(Journal.kind).where(Journal.case_id == case.id).order_by(Journal.id))
        .scalars()
        .all()
    )
    assert kinds == ["deduction", "reversal"]
    said = [entry.summary for entry in history.timeline(case) if entry.kind == "effect"]
    assert any(s.startswith("已冲正此业务单的记账") for s in said), said
    assert verify().ok
