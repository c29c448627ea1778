"""The shipped templates (configs/), end to end through the engine: a deduction above tier
C's threshold needs finance plus a second, different approver; an offboarding case walks
through its rectification timer (`tick --now`) and cannot be executed before its
clearance checklist is complete."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases import uploads
from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.extensions import db, utcnow
from formflow.workflows import checklists, engine

pytestmark = pytest.mark.live_db


@pytest.fixture
def demo(live_app):
    assert live_app.test_cli_runner().invoke(args=["formflow", "demo"]).exit_code == 0
    with live_app.app_context():
        auth.create_user("manager2", "correct-horse-9", ["manager"])
        auth.create_user("risk2", "correct-horse-9", ["risk"])
        db.session.commit()
    return live_app


def u(name):
    return auth.find_user(name)


def evidence(name: str, by: str) -> str:
    """The token of a file `by` uploaded (a file field holds a token, never a file name)."""
    upload = FileStorage(io.BytesIO(b"%PDF-1.4 evidence"), name, content_type="application/pdf")
    return uploads.store_upload("/evidence", upload, {}, actor=u(by))


def test_a_deduction_above_tier_c_threshold_needs_two_different_approvers(demo):
    with demo.app_context():
        data = {
            "reason": "quality",
            "amount": Decimal("3000.00"),
            "incident_date": "2026-11-20",
            "evidence": evidence("收货单.pdf", "staff"),
        }
        case = cases.start("deduction", "C005", data, submit=True, actor=u("staff"))  # C005 is tier C
        db.session.commit()
        assert case.state == "review" and engine.approval_status(case).required == 2
        engine.perform(case, "approve", u("finance"))
        db.session.commit()
        assert case.state == "review"
        with pytest.raises(Invalid):
            engine.perform(case, "approve", u("finance"))
        db.session.rollback()
        engine.perform(case, "approve", u("manager"))
        db.session.commit()
        assert case.state == "executed"
        from formflow.workflows.models import NoticeDocument

        notices = (
            db.session.execute(sa.select(NoticeDocument).where(NoticeDocument.case_id == case.id))
            .scalars()
            .all()
        )
        assert len(notices) == 1 and "3,000.00" in notices[0].body


def test_a_deduction_above_the_tier_limit_is_refused(demo):
    with demo.app_context():
        data = {
            "reason": "quality",
            "amount": Decimal("6000.00"),
            "incident_date": "2026-11-20",
            "evidence": evidence("x.pdf", "staff"),
        }
        with pytest.raises(Invalid) as refused:
            cases.start("deduction", "C005", data, submit=True, actor=u("staff"))
        assert refused.value.errors[0]["pointer"] == "/data/amount"


def test_offboarding_walks_through_its_timer_and_needs_the_checklist(demo):
    runner = demo.test_cli_runner()
    with demo.app_context():
        data = {
            "criteria": ["late_payments"],
            "late_payment_count": 3,
            "details": "连续三个月逾期",
            "contact": "张经理",
        }
        case = cases.start("offboarding", "C006", data, submit=True, actor=u("staff"))
        db.session.commit()
        assert case.state == "preliminary_notice"
        assert customers.get_by_code("C006").status == "in_rectification"
        engine.perform(case, "start_rectification", u("risk"))
        db.session.commit()
        case_id = case.id
    later = (utcnow() + timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    result = runner.invoke(args=["formflow", "tick", "--now", later])
    assert result.exit_code == 0, result.output
    with demo.app_context():
        case = cases.get(case_id)
        assert case.state == "evaluation"
        engine.perform(case, "proceed", u("risk2"))
        engine.perform(case, "proceed", u("manager"))
        db.session.commit()
        assert case.state == "formal_notice"
        engine.perform(case, "execute", u("risk"))
        db.session.commit()
        assert case.state == "execution"
        with pytest.raises(Invalid) as incomplete:
            engine.perform(case, "complete", u("staff"))
        assert incomplete.value.errors[0]["pointer"] == "/checklist"
        db.session.rollback()
        for item in checklists.items(case):
            if item.required:
                checklists.tick(case, item.id, u("staff"), note="已完成")
        db.session.commit()
        engine.perform(case, "complete", u("staff"))
        engine.perform(case, "settle", u("finance"))
        db.session.commit()
        assert case.state == "blacklisted" and customers.get_by_code("C006").status == "blacklisted"
        engine.perform(case, "close", u("risk"), comment="客户已确认")
        db.session.commit()
        assert case.closed_at is not None
