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
from formflow.forms.pointers import join, resolve
from formflow.forms.texts import localized
from formflow.i18n import join_list
from formflow.processes.form_rules import rule_context, truthy, version_tables
from formflow.records.changes import change_data, check_submission
from formflow.records.checking import case_context
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
    from formflow.auth.models import User
    from formflow.workflows.inbox import delegators_of

    ids = delegators_of(user, today)
    return [found for user_id in ids if (found := db.session.get(User, user_id)) is not None]


def _may_take(case, state: dict, action: dict, person, roles: set[str]) -> bool:
    """Whether `person`, acting with `roles`, may take `action` at the case's step. The
    action's roles and `not_initiator` hold for everyone: the state's assignee, a user the
    step was reassigned to and a delegate alike."""
    if state.get("not_initiator") and case.created_by_id == person.id:
        return False
    allowed = _roles_for(state, action)
    if allowed and not allowed & roles:
        return False
    if case.assigned_to_id is not None:
        return case.assigned_to_id == person.id
    assignee = state.get("assignee") or {}
    if isinstance(assignee, dict) and assignee.get("field"):
        return resolve(case.data or {}, assignee["field"]) == person.username
    if is_form_state(case) and not (isinstance(assignee, dict) and assignee.get("role")):
        # a form nobody is named for (a draft) is its author's, or an administrator's
        return case.created_by_id == person.id or "admin" in person.role_names
    return True


def acting_as(case, user, action_name: str):
    """Whom `user` acts for when taking `action_name` now: themselves, a delegator they
    stand in for (only through roles both hold; drafts are not delegated), or None."""
    if user is None or not getattr(user, "is_authenticated", False) or case.closed_at is not None:
        return None
    state = state_spec(case)
    action = (state.get("actions") or {}).get(action_name)
    if not isinstance(action, dict):
        return None
    own = set(user.role_names)
    if _may_take(case, state, action, user, own):
        return user
    if is_form_state(case) or (state.get("not_initiator") and case.created_by_id == user.id):
        return None
    for other in _delegators(user, business_today()):
        if _may_take(case, state, action, other, own & set(other.role_names)):
            return other
    return None


def can_act(case, user, action_name: str | None) -> bool:
    """Whether `user` may take `action_name` (any action of the state when None) now."""
    if user is None or not getattr(user, "is_authenticated", False) or case.closed_at is not None:
        return False
    actions = state_spec(case).get("actions") or {}
    names = [action_name] if action_name else list(actions)
    return any(acting_as(case, user, name) is not None for name in names)


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
    count = len({principal_of(a) for a in given}) if distinct else len(given)
    approve = (state.get("actions") or {}).get(spec.get("approve", "approve")) or {}
    return ApprovalStatus(
        required, given, max(0, required - count), sorted(_roles_for(state, approve)), distinct
    )


def principal_of(approval: CaseApproval) -> int:
    """Whose approval it is: the delegator a delegate approved for, else the approver."""
    return approval.on_behalf_of_id or approval.user_id


def _approval_block(case, state: dict, name: str, user, principal=None) -> str | None:
    """Why `user` (acting for `principal`) may not approve: distinct approvers count people,
    so neither of them may have approved this round, nor an earlier step when excluded."""
    spec = _approvals_spec(state)
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
                blocked=_approval_block(case, state, name, user, acting_as(case, user, name)),
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
    principal = user if system else acting_as(case, user, action_name)
    if principal is None and not system:
        raise Forbidden()
    if isinstance(data, dict) and data:
        _change_data(case, data, user)
    _check_guard(case, action, user)
    _check_requirements(case, action, comment)
    if _leaves_form(case, action):
        from formflow.workflows.checklists import evidence_tokens

        check_submission(case, user, now, evidence_of=evidence_tokens)
    blocked = None if system else _approval_block(case, state, action_name, user, principal)
    if blocked:
        raise Invalid([{"pointer": "/action", "message": blocked}])
    approvals = _approvals_spec(state)
    is_approval_state = state.get("kind") == "approval" or "approvals" in state
    transition = True
    if is_approval_state and action_name == approvals.get("approve", "approve") and not system:
        _record(case, user, principal, "approve", action_name, comment, now)
        status = approval_status(case)
        transition = status.remaining == 0
    elif is_approval_state and action_name == approvals.get("reject", "reject") and not system:
        _record(case, user, principal, "reject", action_name, comment, now)
    after = {"action": action_name, "comment": comment or "", "system": system}
    if principal is not user:
        after["on_behalf_of"] = principal.username
    audit.record("case.action", "case", case.id, before={"state": case.state}, after=after, actor=user)
    if transition:
        enter(case, action["to"], user, now, via=action_name, comment=comment)
    else:
        case.updated_at = now  # the UPDATE checks lock_version: a concurrent action conflicts
    db.session.flush()
    return PerformResult(case.state, transition, approval_status(case))


def _leaves_form(case, action: dict) -> bool:
    """Whether taking `action` takes the case out of a form step into one that is not final:
    the form must then be complete, exactly as its Submit button demands."""
    if not is_form_state(case) or action.get("validate") is False or action.get("to") == case.state:
        return False
    target = state_spec(case, action.get("to"))
    return not (target.get("kind") == "final" or target.get("final"))


# --- editing at a step ----------------------------------------------------------------


def editable_fields(case) -> list[str] | None:
    """The fields the case's current step may change: None for every field (the workflow's
    start state; a case without a workflow while a draft), else the pointers the form step
    names in `fields` (none when it names none, and none outside form steps)."""
    if not is_form_state(case):
        return []
    workflow = workflow_of(case.version)
    if workflow is None:
        return None
    spec = state_spec(case)
    if isinstance(spec.get("fields"), list):
        return list(spec["fields"])
    return None if case.state == workflow.get("start") else []


def may_change(case, pointer_key: str) -> bool:
    """Whether the top-level field `pointer_key` (no slash) may change at the current step."""
    fields = editable_fields(case)
    if fields is None:
        return True
    return any(f == "/" + pointer_key or f.startswith("/" + pointer_key + "/") for f in fields)


def may_edit(case, user) -> bool:
    """Whether `user` may change the case's data now: at a form step with something to
    change, if they are who the step is for (the author or an administrator at a draft; the
    step's assignee; whom it was reassigned to)."""
    if user is None or not getattr(user, "is_authenticated", False) or case.closed_at is not None:
        return False
    if not is_form_state(case) or editable_fields(case) == []:
        return False
    return _may_take(case, state_spec(case), {}, user, set(user.role_names))


def _change_data(case, data: dict, user) -> None:
    """Data sent with an action: changed like a save, by who may edit at this step and only
    in the fields the step may change."""
    from formflow.workflows.checklists import evidence_tokens

    if not is_form_state(case):
        message = _("The data can only change while the case is being filled in.")
        raise Invalid([{"pointer": "/data", "message": message}])
    if not may_edit(case, user):
        raise Forbidden(_("You may not change this case's data at this step."))
    previous = case.data or {}
    fixed = [
        {"pointer": join("/data", str(key)), "message": _("This field cannot be changed at this step.")}
        for key, value in data.items()
        if (key not in previous or previous[key] != value) and not may_change(case, str(key))
    ]
    if fixed:
        raise Invalid(fixed)
    change_data(case, data, user, evidence_of=evidence_tokens)


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

        missing = checklists.missing_labels(case)
        if missing:
            message = _("Complete the checklist first: %(items)s.", items=join_list(missing))
            errors.append({"pointer": "/checklist", "message": message})
    if errors:
        raise Invalid(errors)


def _record(case, user, principal, decision: str, action: str, comment: str | None, now: datetime) -> None:
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
