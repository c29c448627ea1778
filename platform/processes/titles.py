"""What people read for a workflow's names: the title the spec gives a state or an action,
in the user's language (the name itself only when the spec has no title).

    state_title(case.version, "review")        -> "审核" / "Review"
    action_title(case.version, "approve")      -> "批准" / "Approve"
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from formflow.forms.texts import localized

#: the states of a process without a workflow
_PLAIN_STATES = {"draft": "Draft", "submitted": "Submitted"}


def _states(version_or_spec: Any) -> dict:
    spec = getattr(version_or_spec, "spec", version_or_spec)
    workflow = spec.get("workflow") if isinstance(spec, dict) else None
    states = workflow.get("states") if isinstance(workflow, dict) else None
    return states if isinstance(states, dict) else {}


def state_title(version_or_spec: Any, name: Any) -> str:
    """The state's title; "Draft"/"Submitted" (translated) for processes without a workflow."""
    if not name:
        return ""
    state = _states(version_or_spec).get(name)
    if isinstance(state, dict) and localized(state.get("title")):
        return localized(state.get("title"))
    if name in _PLAIN_STATES and not isinstance(state, dict):
        return _("Draft") if name == "draft" else _("Submitted")
    return str(name)


def action_title(version_or_spec: Any, name: Any, state: str | None = None) -> str:
    """The action's title: at `state` when given, else the first state that has the action."""
    if not name:
        return ""
    states = _states(version_or_spec)
    candidates = [states.get(state)] if state in states else []
    candidates += list(states.values())
    for spec in candidates:
        actions = spec.get("actions") if isinstance(spec, dict) else None
        action = actions.get(name) if isinstance(actions, dict) else None
        if isinstance(action, dict) and localized(action.get("title")):
            return localized(action.get("title"))
    return str(name)


def checklist_label(version_or_spec: Any, item_id: Any, state: str | None = None) -> str:
    """A checklist item's label (`state`'s checklist first, then any state's)."""
    states = _states(version_or_spec)
    candidates = [states.get(state)] if state in states else []
    candidates += list(states.values())
    for spec in candidates:
        checklist = spec.get("checklist") if isinstance(spec, dict) else None
        items = checklist.get("items") if isinstance(checklist, dict) else checklist
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("id") == item_id and localized(item.get("label")):
                return localized(item.get("label"))
    return str(item_id or "")
