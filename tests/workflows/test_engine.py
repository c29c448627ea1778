"""The workflow engine: available actions, approvals by distinct people, guards,
requirements, transitions and optimistic locking."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.errors import Conflict, Forbidden, Invalid
from formflow.extensions import db
from formflow.processes import services as processes
from formflow.workflows import engine

SPEC = {
    "formflow": 1,
    "key": "wf_deduction",
    "category": "deduction",
    "name": {"zh-CN": "扣款", "en": "Deduction"},
    "form": {
        "schema": {
            "type": "object",
            "required": ["amount"],
            "properties": {"amount": {"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0}},
        }
    },
    "tables": [
        {
            "key": "limits",
            "keyColumn": "tier",
            "columns": ["tier", "dual_approval_above"],
            "rows": [["A", 20000], ["B", 10000], ["C", 2000]],
        }
    ],
    "workflow": {
        "start": "draft",
        "states": {
            "draft": {"kind": "form", "actions": {"submit": {"to": "review", "roles": ["staff", "finance"]}}},
            "review": {
                "kind": "approval",
                "assignee": {"role": "finance"},
                "not_initiator": True,
                "approvals": {
                    "required": {
                        "if": [
                            {
                                ">": [
                                    {"var": "data.amount"},
                                    {"lookup": ["limits", {"var": "customer.tier"}, "dual_approval_above"]},
                                ]
                            },
                            2,
                            1,
                        ]
                    },
                    "distinct": True,
                },
                "actions": {
                    "approve": {"to": "executed", "roles": ["finance"]},
                    "reject": {"to": "rejected", "roles": ["finance"], "requires": ["comment"]},
                    "return": {"to": "draft", "roles": ["finance"], "requires": ["comment"]},
                },
            },
            "executed": {
                "kind": "automatic",
                "actions": {
                    "close": {
                        "to": "closed",
                        "roles": ["finance"],
                        "guard": {
                            "when": {"<": [{"var": "data.amount"}, 100000]},
                            "message": {"zh-CN": "金额过大，不能关闭", "en": "Too large to close"},
                        },
                    }
                },
            },
            "rejected": {"kind": "final"},
            "closed": {"kind": "final"},
        },
    },
}


@pytest.fixture
def setup(app):
    with app.app_context():
        processes.import_spec(SPEC)
        processes.publish("wf_deduction")
        customers.create("W100", "华南测试", "C")
        users = {
            name: auth.create_user(name, "correct-horse-9", roles).id
            for name, roles in {
                "staff1": ["staff"],
                "fin1": ["finance"],
                "fin2": ["finance"],
                "fin3": ["finance", "staff"],
            }.items()
        }
        db.session.commit()
    return users


def user(name):
    return auth.find_user(name)


def new_case(amount, *, by="staff1", submit=True):
    case = cases.start("wf_deduction", "W100", {"amount": Decimal(amount)}, submit=submit, actor=user(by))
    db.session.flush()
    return case


def test_a_draft_starts_at_the_start_state_and_submit_moves_it_on(setup, app_ctx):
    draft = new_case("10", submit=False)
    assert draft.state == "draft" and draft.state_round == 1
    submitted = new_case("10")
    assert submitted.state == "review"
    assert [a.name for a in engine.available_actions(submitted, user("fin1"))] == [
        "approve",
        "reject",
        "return",
    ]
    assert engine.available_actions(submitted, user("staff1")) == []


def test_below_the_threshold_one_approval_executes(setup, app_ctx):
    case = new_case("1500.00")
    assert engine.approval_status(case).required == 1
    result = engine.perform(case, "approve", user("fin1"))
    assert result.transitioned and case.state == "executed"


def test_above_the_threshold_two_distinct_approvers_are_needed(setup, app_ctx):
    case = new_case("2000.01")  # tier C's dual-approval threshold is 2000
    assert engine.approval_status(case).required == 2
    first = engine.perform(case, "approve", user("fin1"))
    assert not first.transitioned and case.state == "review" and first.approvals.remaining == 1
    with pytest.raises(Invalid) as twice:
        engine.perform(case, "approve", user("fin1"))
    assert twice.value.errors[0]["pointer"] == "/action"
    assert [o.blocked for o in engine.available_actions(case, user("fin1")) if o.name == "approve"] != [None]
    second = engine.perform(case, "approve", user("fin2"))
    assert second.transitioned and case.state == "executed"


def test_the_initiator_may_not_approve_their_own_case(setup, app_ctx):
    case = new_case("10", by="fin3")
    with pytest.raises(Forbidden):
        engine.perform(case, "approve", user("fin3"))
    with pytest.raises(Forbidden):
        engine.perform(case, "approve", user("staff1"))  # not finance at all


def test_reject_needs_a_comment_and_closes_the_case(setup, app_ctx):
    case = new_case("10")
    with pytest.raises(Invalid) as refused:
        engine.perform(case, "reject", user("fin1"))
    assert refused.value.errors[0]["pointer"] == "/comment"
    engine.perform(case, "reject", user("fin1"), comment="证据不足")
    assert case.state == "rejected" and case.closed_at is not None
    assert engine.available_actions(case, user("fin1")) == []
    with pytest.raises(Invalid):
        engine.perform(case, "approve", user("fin2"))


def test_returning_starts_a_new_round_where_earlier_approvals_do_not_count(setup, app_ctx):
    case = new_case("5000")
    engine.perform(case, "approve", user("fin1"))
    engine.perform(case, "return", user("fin2"), comment="补充证据")
    assert case.state == "draft" and case.state_round >= 2
    engine.perform(case, "submit", user("staff1"))
    status = engine.approval_status(case)
    assert status.given == [] and status.remaining == 2
    engine.perform(case, "approve", user("fin1"))  # fin1 may approve again in the new round
    assert engine.approval_status(case).remaining == 1


def test_a_guard_refuses_with_its_message(setup, app, app_ctx):
    case = new_case("150000")
    engine.perform(case, "approve", user("fin1"))
    engine.perform(case, "approve", user("fin2"))
    with (
        app.test_request_context(headers={"Cookie": "lang=en"}),
        pytest.raises(Invalid, match="Too large to close"),
    ):
        engine.perform(case, "close", user("fin1"))
    assert case.state == "executed"


def test_a_stale_lock_version_is_a_conflict(setup, app_ctx):
    case = new_case("10")
    seen = case.lock_version
    engine.perform(case, "approve", user("fin1"))
    with pytest.raises(Conflict):
        engine.perform(case, "close", user("fin1"), lock_version=seen)


def test_transitions_and_approvals_are_in_the_audit_log(setup, app_ctx):
    import sqlalchemy as sa

    from formflow.audit.models import AuditEntry

    case = new_case("10")
    engine.perform(case, "approve", user("fin1"), comment="ok")
    actions = (
        db.session.execute(
            sa.select(AuditEntry.action)
            .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case.id))
            .order_by(AuditEntry.seq)
        )
        .scalars()
        .all()
    )
    assert actions.count("case.transition") == 3  # draft, review, executed
    assert "case.approve" in actions and "case.action" in actions


def test_a_case_keeps_its_version_after_a_new_one_is_published(setup, app_ctx):
    case = new_case("10", submit=False)
    changed = copy.deepcopy(SPEC)
    changed["workflow"]["states"]["extra"] = {"kind": "final"}
    changed["workflow"]["states"]["executed"]["actions"]["archive"] = {"to": "extra", "roles": ["finance"]}
    processes.import_spec(changed)
    processes.publish("wf_deduction")
    db.session.flush()
    assert case.version.number == 1 and "extra" not in engine.workflow_of(case.version)["states"]
    assert "extra" in engine.workflow_of(new_case("10", submit=False).version)["states"]
