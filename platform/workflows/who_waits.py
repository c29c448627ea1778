"""Who a case's current step waits for: whether it waits on anyone, whether it waits for a
given user (rather than merely allowing them to act), why, and for whom they stand in.

Whether a user may act at all is the engine's `can_act`; these rules decide the inbox."""

from __future__ import annotations

from formflow.auth.models import User
from formflow.forms.pointers import resolve
from formflow.records.models import Case


def waits_on_nobody(case: Case, state: dict) -> bool:
    """Whether the step waits on no one, though people may act there (e.g. a dispute window
    a timer closes): the state says `"inbox": false`; or, by default, it is an automatic
    step with no assignee (and not reassigned) whose SLA ends it by an action."""
    if isinstance(state.get("inbox"), bool):
        return not state["inbox"]
    if state.get("kind") != "automatic" or state.get("assignee") or case.assigned_to_id is not None:
        return False
    sla = state.get("sla") if isinstance(state.get("sla"), dict) else {}
    on_expire = sla.get("on_expire") if isinstance(sla.get("on_expire"), dict) else {}
    return on_expire.get("do") == "action"


def state_may_involve(state: dict, roles: set[str]) -> bool:
    """Whether holders of `roles` might act in `state` (an action's roles, else the
    assignee's role; an action open to any role or a field assignee: maybe)."""
    assignee = state.get("assignee") if isinstance(state.get("assignee"), dict) else {}
    for action in (state.get("actions") or {}).values():
        if not isinstance(action, dict):
            continue
        allowed = set(action.get("roles") or ([assignee["role"]] if assignee.get("role") else []))
        if not allowed or allowed & roles:
            return True
    return False


def is_form_step(state: dict) -> bool:
    return state.get("kind", "form") == "form" and not state.get("assignee")


def is_expected(case: Case, state: dict, user: User, delegators: list[User]) -> bool:
    """Whether the case waits for `user` (rather than merely allowing them to act)."""
    if case.assigned_to_id is not None:
        return case.assigned_to_id in {user.id, *(d.id for d in delegators)}
    if is_form_step(state):
        return case.created_by_id == user.id  # a draft is its author's (delegations are approvals)
    return True


def reason_for(case: Case, state: dict, user: User, delegators: list[User]) -> str:
    """Why the case waits for `user`: "reassigned", "assignee", "role", "initiator", "delegated"."""
    if case.assigned_to_id is not None:
        return "reassigned" if case.assigned_to_id == user.id else "delegated"
    if is_form_step(state):
        return "initiator"
    if not _by_own_roles(case, state, user):
        return "delegated"
    assignee = state.get("assignee") if isinstance(state.get("assignee"), dict) else {}
    if assignee.get("field") or (assignee.get("role") and assignee["role"] in user.role_names):
        return "assignee"
    return "role"


def _by_own_roles(case: Case, state: dict, user: User) -> bool:
    """Whether `user` holds the step in their own right (for the label only: whether they
    may act at all is the engine's `can_act`)."""
    assignee = state.get("assignee") if isinstance(state.get("assignee"), dict) else {}
    if assignee.get("field") and resolve(case.data or {}, assignee["field"]) != user.username:
        return False
    return state_may_involve(state, set(user.role_names))


def acting_for(case: Case, state: dict, user: User, delegators: list[User]) -> list[str]:
    """The delegators on whose behalf `user` is expected at this case."""
    from formflow.workflows import engine

    names = []
    for other in delegators:
        if case.assigned_to_id is not None:
            acts = case.assigned_to_id == other.id
        elif is_form_step(state):
            acts = False
        else:
            acts = engine.can_act(case, other, None)
        if acts:
            names.append(other.username)
    return names
