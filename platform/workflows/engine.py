"""The workflow engine: which actions a user may take on a case, and taking one.

`perform` does everything in the caller's ONE transaction: permission → guard →
requirements → the approval → the transition when complete → the target state's effects.
If anything fails, the caller rolls back and nothing of the action remains. The case's
`lock_version` (SQLAlchemy's version counter) makes two concurrent actions on one case give
one success and one Conflict (409)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from formflow import audit, rules
from formflow.errors import Conflict, Forbidden, Invalid
from formflow.extensions import db, utcnow
from formflow.forms.pointers import resolve
from formflow.forms.texts import localized
from formflow.rules.form_rules import rule_context, truthy, version_tables
from formflow.rules.operators import business_today
from formflow.workflows.models import CaseApproval


@dataclass
class ActionOption:
    name: str
    title: str
    to: str
    requires_comment: bool = False
    is_approval: bool = False
    needs_input: bool = False
    #: why the user cannot take it right now (e.g. "already approved by you"), or None
    blocked: str | None = None


@dataclass
class ApprovalStatus:
    required: int
    given: list = field(default_factory=list)
    remaining: int = 0
    roles: list[str] = field(default_factory=list)
    distinct: bool = True


@dataclass
class PerformResult:
    state: str
    transitioned: bool
    approvals: ApprovalStatus | None = None


# --- the spec --------------------------------------------------------------------------


def workflow_of(version) -> dict | None:
    workflow = (version.spec or {}).get("workflow")
    return workflow if isinstance(workflow, dict) and workflow.get("states") else None


def state_spec(case, state: str | None = None) -> dict:
    workflow = workflow_of(case.version) or {}
    return (workflow.get("states") or {}).get(state or case.state) or {}


def is_final(case) -> bool:
    spec = state_spec(case)
    return spec.get("kind") == "final" or bool(spec.get("final"))


def is_form_state(case) -> bool:
    """Whether the case's data may still be edited (a draft, or a workflow "form" state)."""
    if workflow_of(case.version) is None:
        return case.state == "draft"
    return state_spec(case).get("kind", "form") == "form" and not is_final(case)


def title_of(texts: Any, fallback: str) -> str:
    return localized(texts) or fallback


# --- context ---------------------------------------------------------------------------


def rule_context_for(case, user=None) -> dict:
    from formflow.cases.services import case_context

    return rule_context(
        case.data or {}, customer=case.customer, case=case_context(case, case.version), user=user
    )


def _evaluate(case, expression: Any, user=None, rule_id: str | None = None) -> Any:
    context = rules.prepare(rule_context_for(case, user), version_tables(case.version))
    return rules.compile(expression).evaluate(context, rule_id=rule_id)


# --- who may act -----------------------------------------------------------------------


def _roles_for(state: dict, action: dict) -> set[str]:
    if action.get("roles"):
        return set(action["roles"])
    assignee = state.get("assignee") or {}
    return {assignee["role"]} if isinstance(assignee, dict) and assignee.get("role") else set()


def _delegators(user, today: date) -> list:
    try:
        from formflow.workflows.inbox import delegators_of
    except ImportError:
        return []
    from formflow.auth.models import User

    ids = delegators_of(user, today)
    return [db.session.get(User, user_id) for user_id in ids] if ids else []


def _holds(case, state: dict, action: dict, person) -> bool:
    """Whether `person` (by roles and the state's assignee) may take `action`."""
    roles = _roles_for(state, action)
    if roles and not roles & set(person.role_names):
        return False
    assignee = state.get("assignee") or {}
    if isinstance(assignee, dict) and assignee.get("field"):
        return resolve(case.data or {}, assignee["field"]) == person.username
    return True


def can_act(case, user, action_name: str | None) -> bool:
    """Whether `user` may take `action_name` (any action of the state when None) now."""
    if user is None or not getattr(user, "is_authenticated", False) or case.closed_at is not None:
        return False
    state = state_spec(case)
    actions = state.get("actions") or {}
    names = [action_name] if action_name else list(actions)
    if state.get("not_initiator") and case.created_by_id == user.id:
        return False
    for name in names:
        action = actions.get(name)
        if action is None:
            continue
        if case.assigned_to_id is not None:
            if case.assigned_to_id == user.id:
                return True
            continue
        if _holds(case, state, action, user):
            return True
        today = business_today()
        if any(_holds(case, state, action, other) for other in _delegators(user, today) if other is not None):
            return True
    return False


# --- approvals -------------------------------------------------------------------------


def _approvals_spec(state: dict) -> dict:
    approvals = state.get("approvals")
    return approvals if isinstance(approvals, dict) else {}


def required_approvals(case, state: dict | None = None) -> int:
    state = state if state is not None else state_spec(case)
    required = _approvals_spec(state).get("required", 1)
    if isinstance(required, dict | list):
        required = _evaluate(case, required, rule_id="approvals.required")
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
    spec = _approvals_spec(state)
    required = required_approvals(case, state)
    given = _given(case)
    distinct = spec.get("distinct", True)
    count = len({a.user_id for a in given}) if distinct else len(given)
    approve = (state.get("actions") or {}).get(spec.get("approve", "approve")) or {}
    return ApprovalStatus(
        required, given, max(0, required - count), sorted(_roles_for(state, approve)), distinct
    )


def _approval_block(case, state: dict, name: str, user) -> str | None:
    spec = _approvals_spec(state)
    if name != spec.get("approve", "approve"):
        return None
    if any(a.user_id == user.id for a in _given(case)):
        return _("Already approved by you.")
    if spec.get("exclude_earlier_approvers"):
        earlier = db.session.execute(
            sa.select(CaseApproval.id).where(
                CaseApproval.case_id == case.id,
                CaseApproval.user_id == user.id,
                CaseApproval.decision == "approve",
                CaseApproval.state != case.state,
            )
        ).first()
        if earlier is not None:
            return _("You approved an earlier step of this case; someone else must approve this one.")
    return None


# --- actions ---------------------------------------------------------------------------


def available_actions(case, user) -> list[ActionOption]:
    """The actions `user` may take on the case now (blocked ones say why)."""
    if workflow_of(case.version) is None or case.closed_at is not None:
        return []
    state = state_spec(case)
    options = []
    for name, action in (state.get("actions") or {}).items():
        if not isinstance(action, dict) or not can_act(case, user, name):
            continue
        requires = set(action.get("requires") or [])
        approvals = _approvals_spec(state)
        is_approval = state.get("kind") == "approval" and name in (
            approvals.get("approve", "approve"),
            approvals.get("reject", "reject"),
        )
        options.append(
            ActionOption(
                name=name,
                title=title_of(action.get("title"), name),
                to=action.get("to", ""),
                requires_comment="comment" in requires or action.get("comment") == "required",
                is_approval=is_approval,
                needs_input=bool(requires) or "guard" in action,
                blocked=_approval_block(case, state, name, user),
            )
        )
    return options


def perform(
    case,
    action_name: str,
    user,
    comment: str | None = None,
    data: dict | None = None,
    *,
    lock_version: int | None = None,
    now: datetime | None = None,
    system: bool = False,
) -> PerformResult:
    """Take `action_name` on `case` as `user` (see the module docstring for the order)."""
    try:
        return _perform(
            case, action_name, user, comment, data, lock_version=lock_version, now=now, system=system
        )
    except StaleDataError:  # another transaction changed the case first (noticed at any flush)
        raise Conflict() from None


def _perform(case, action_name, user, comment, data, *, lock_version, now, system) -> PerformResult:
    now = now or utcnow()
    if lock_version is not None and lock_version != case.lock_version:
        raise Conflict()
    workflow = workflow_of(case.version)
    state = state_spec(case)
    action = (state.get("actions") or {}).get(action_name)
    if workflow is None or case.closed_at is not None or not isinstance(action, dict):
        message = _("“%(action)s” is not possible while the case is at “%(state)s”.", action=action_name,
                    state=title_of(state.get("title"), case.state))  # fmt: skip
        raise Invalid([{"pointer": "/action", "message": message}])
    if not system and not can_act(case, user, action_name):
        raise Forbidden()
    if isinstance(data, dict) and data:
        _merge_data(case, data, user)
    _check_guard(case, action, user)
    _check_requirements(case, action, comment)
    blocked = None if system else _approval_block(case, state, action_name, user)
    if blocked:
        raise Invalid([{"pointer": "/action", "message": blocked}])
    approvals = _approvals_spec(state)
    is_approval_state = state.get("kind") == "approval" or "approvals" in state
    transition = True
    if is_approval_state and action_name == approvals.get("approve", "approve") and not system:
        _record(case, user, "approve", action_name, comment, now)
        status = approval_status(case)
        transition = status.remaining == 0
    elif is_approval_state and action_name == approvals.get("reject", "reject") and not system:
        _record(case, user, "reject", action_name, comment, now)
    audit.record(
        "case.action",
        "case",
        case.id,
        before={"state": case.state},
        after={"action": action_name, "comment": comment or "", "system": system},
        actor=user,
    )
    if transition:
        enter(case, action["to"], user, now, via=action_name, comment=comment)
    else:
        case.updated_at = now  # the UPDATE checks lock_version: a concurrent action conflicts
    db.session.flush()
    return PerformResult(case.state, transition, approval_status(case))


def _merge_data(case, data: dict, user) -> None:
    """Data sent with an action: only while the case is a draft (form state), and checked
    like any save (rules re-run, schema validated). An approver cannot change the amount."""
    from formflow import forms
    from formflow.cases.services import apply_case_rules, form_of

    if not is_form_state(case):
        message = _("The data can only change while the case is being filled in.")
        raise Invalid([{"pointer": "/data", "message": message}])
    merged, outcome = apply_case_rules(
        case.version, case.customer, case, user, {**(case.data or {}), **data}, case.data, submit=False
    )
    schema, _ui = form_of(case.version)
    errors = outcome.errors + forms.validate(schema, merged)
    if errors:
        raise Invalid([{**error, "pointer": "/data" + error["pointer"]} for error in errors])
    case.data = merged


def _check_guard(case, action: dict, user) -> None:
    guard = action.get("guard")
    if not isinstance(guard, dict) or "when" not in guard:
        return
    if not truthy(_evaluate(case, guard["when"], user, rule_id="guard")):
        message = localized(guard.get("message")) or _("This action is not allowed for this case.")
        raise Invalid([{"pointer": "/action", "message": message}])


def _check_requirements(case, action: dict, comment: str | None) -> None:
    requires = set(action.get("requires") or [])
    if action.get("comment") == "required":
        requires.add("comment")
    errors = []
    if "comment" in requires and not (comment or "").strip():
        errors.append({"pointer": "/comment", "message": _("A comment is required for this action.")})
    if "checklist" in requires:
        from formflow.workflows import checklists

        missing = checklists.missing(case)
        if missing:
            message = _("Complete the checklist first: %(items)s.", items=", ".join(missing))
            errors.append({"pointer": "/checklist", "message": message})
    if errors:
        raise Invalid(errors)


def _record(case, user, decision: str, action: str, comment: str | None, now: datetime) -> None:
    approval = CaseApproval(
        case_id=case.id,
        state=case.state,
        round=case.state_round,
        user_id=user.id,
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
        after={"state": case.state, "round": case.state_round, "comment": comment or ""},
        actor=user,
    )


# --- entering states -------------------------------------------------------------------


def start(case, actor, now: datetime | None = None) -> None:
    """A new case enters the workflow's start state (nothing happens without a workflow)."""
    workflow = workflow_of(case.version)
    if workflow is None:
        return
    enter(case, workflow["start"], actor, now or utcnow(), first=True)


def enter(
    case, state_name: str, actor, now: datetime, *, first: bool = False, via=None, comment=None
) -> None:
    """The case is now in `state_name`: a new round, timers, `on_enter` effects."""
    before = case.state
    case.state = state_name
    case.state_round = 1 if first else (case.state_round or 0) + 1
    case.state_entered_at = now
    case.updated_at = now
    case.assigned_to_id = None  # a reassignment is for the step it was made at
    if is_final(case):
        case.closed_at = now
    audit.record(
        "case.transition",
        "case",
        case.id,
        before={"state": before},
        after={"state": state_name, "round": case.state_round, "action": via, "comment": comment or ""},
        actor=actor,
    )
    spec = state_spec(case)
    if spec.get("sla"):
        try:
            from formflow.workflows import timers
        except ImportError:
            timers = None
        if timers is not None:
            timers.schedule(case, state_name, spec, now)
    if spec.get("on_enter"):
        from formflow.workflows import effects

        effects.run_effects(case, state_name, actor, now)
