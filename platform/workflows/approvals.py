"""Approvals: how many a state requires (a number or a rule), who has approved in this
round (a delegate counts for the person they stand in for), why someone may not approve,
and storing one decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.workflows.models import CaseApproval
from formflow.workflows.states import evaluate, state_spec


@dataclass
class ApprovalStatus:
    required: int
    given: list = field(default_factory=list)
    remaining: int = 0
    roles: list[str] = field(default_factory=list)
    distinct: bool = True


def roles_for(state: dict, action: dict) -> set[str]:
    """The roles that may take `action`: its own, else the state's assignee role."""
    if action.get("roles"):
        return set(action["roles"])
    assignee = state.get("assignee") or {}
    return {assignee["role"]} if isinstance(assignee, dict) and assignee.get("role") else set()


def approvals_spec(state: dict) -> dict:
    approvals = state.get("approvals")
    return approvals if isinstance(approvals, dict) else {}


def required_approvals(case, state: dict | None = None) -> int:
    state = state if state is not None else state_spec(case)
    required = approvals_spec(state).get("required", 1)
    if isinstance(required, dict | list):
        required = evaluate(case, required, rule_id="approvals.required")
    try:
        return max(0, int(required))
    except (TypeError, ValueError):
        raise Invalid(
            [{"pointer": "", "message": _("The number of approvals required is not a number.")}]
        ) from None


def _given(case, decision: str = "approve") -> list[CaseApproval]:
    return list(
        db.session.execute(
            sa.select(CaseApproval)
            .where(
                CaseApproval.case_id == case.id,
                CaseApproval.state == case.state,
                CaseApproval.round == case.state_round,
                CaseApproval.decision == decision,
            )
            .order_by(CaseApproval.at, CaseApproval.id)
        ).scalars()
    )


def approval_status(case) -> ApprovalStatus | None:
    state = state_spec(case)
    if state.get("kind") != "approval" and "approvals" not in state:
        return None
    spec = approvals_spec(state)
    required = required_approvals(case, state)
    given = _given(case)
    distinct = spec.get("distinct", True)
    count = len({principal_of(a) for a in given}) if distinct else len(given)
    approve = (state.get("actions") or {}).get(spec.get("approve", "approve")) or {}
    return ApprovalStatus(
        required, given, max(0, required - count), sorted(roles_for(state, approve)), distinct
    )


def principal_of(approval: CaseApproval) -> int:
    """Whose approval it is: the delegator a delegate approved for, else the approver."""
    return approval.on_behalf_of_id or approval.user_id


def approval_block(case, state: dict, name: str, user, principal=None) -> str | None:
    """Why `user` (acting for `principal`) may not approve: distinct approvers count people,
    so neither of them may have approved this round, nor an earlier step when excluded."""
    spec = approvals_spec(state)
    if name != spec.get("approve", "approve"):
        return None
    people = {user.id, (principal or user).id}
    if any({a.user_id, principal_of(a)} & people for a in _given(case)):
        return _("Already approved by you.")
    if spec.get("exclude_earlier_approvers"):
        earlier = db.session.execute(
            sa.select(CaseApproval.id).where(
                CaseApproval.case_id == case.id,
                sa.or_(CaseApproval.user_id.in_(people), CaseApproval.on_behalf_of_id.in_(people)),
                CaseApproval.decision == "approve",
                CaseApproval.state != case.state,
            )
        ).first()
        if earlier is not None:
            return _("You approved an earlier step of this case; someone else must approve this one.")
    return None


def record_decision(
    case, user, principal, decision: str, action: str, comment: str | None, now: datetime
) -> None:
    """Store one person's decision (approve or reject) in this round; a second one by the
    same person is refused (the unique index decides when two race)."""
    approval = CaseApproval(
        case_id=case.id,
        state=case.state,
        round=case.state_round,
        user_id=user.id,
        on_behalf_of_id=principal.id if principal is not user else None,
        decision=decision,
        action=action,
        comment=comment or "",
        at=now,
    )
    db.session.add(approval)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Invalid([{"pointer": "/action", "message": _("Already approved by you.")}]) from None
    audit.record(
        f"case.{decision}",
        "case",
        case.id,
        after={"state": case.state, "round": case.state_round, "comment": comment or ""}
        | ({"on_behalf_of": principal.username} if principal is not user else {}),
        actor=user,
    )
