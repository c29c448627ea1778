"""The workflow engine: which actions a user may take on a case, and taking one.

`perform` does everything in the caller's ONE transaction: permission → guard →
requirements → the approval → the transition when complete → the target state's effects.
If anything fails, the caller rolls back and nothing of the action remains. The case's
`lock_version` (SQLAlchemy's version counter) makes two concurrent actions on one case give
one success and one Conflict (409)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from formflow import audit
from formflow.errors import Conflict, Forbidden, Invalid
from formflow.extensions import db, utcnow
from formflow.forms.pointers import join, resolve
from formflow.forms.texts import localized
from formflow.i18n import join_list
from formflow.processes.form_rules import truthy
from formflow.records.changes import change_data, check_submission
from formflow.rules.operators import business_today
from formflow.workflows.approvals import (
    ApprovalStatus,
    approval_block,
    approval_status,
    approvals_spec,
    record_decision,
    roles_for,
)
from formflow.workflows.states import (
    evaluate,
    is_final,
    is_form_state,
    state_spec,
    title_of,
    workflow_of,
)
from formflow.workflows.states import (
    rule_context_for as rule_context_for,  # the context guards read; callers ask the engine
)


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
class PerformResult:
    state: str
    transitioned: bool
    approvals: ApprovalStatus | None = None


# --- who may act -----------------------------------------------------------------------


def _delegators(user, today: date) -> list:
    from formflow.auth.models import User
    from formflow.workflows.delegations import delegators_of

    ids = delegators_of(user, today)
    return [found for user_id in ids if (found := db.session.get(User, user_id)) is not None]


def _may_take(case, state: dict, action: dict, person, roles: set[str]) -> bool:
    """Whether `person`, acting with `roles`, may take `action` at the case's step. The
    action's roles and `not_initiator` hold for everyone: the state's assignee, a user the
    step was reassigned to and a delegate alike."""
    if state.get("not_initiator") and case.created_by_id == person.id:
        return False
    allowed = roles_for(state, action)
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
        approvals = approvals_spec(state)
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
                blocked=approval_block(case, state, name, user, acting_as(case, user, name)),
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
    blocked = None if system else approval_block(case, state, action_name, user, principal)
    if blocked:
        raise Invalid([{"pointer": "/action", "message": blocked}])
    approvals = approvals_spec(state)
    is_approval_state = state.get("kind") == "approval" or "approvals" in state
    transition = True
    if is_approval_state and action_name == approvals.get("approve", "approve") and not system:
        record_decision(case, user, principal, "approve", action_name, comment, now)
        status = approval_status(case)
        transition = status.remaining == 0
    elif is_approval_state and action_name == approvals.get("reject", "reject") and not system:
        record_decision(case, user, principal, "reject", action_name, comment, now)
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
    if not truthy(evaluate(case, guard["when"], user, rule_id="guard")):
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
