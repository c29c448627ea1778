"""Changing or removing a workflow step without JSON. The step editor's settings
(formflow.processes.state_settings) are written into the state; what the editor does not show
(a description, its checklist, approve/reject names, an action's `validate`) is kept. The spec's
checks decide; every problem is put on the editor's input it concerns, as the pointer
/workflow/states/NAME/INPUT (INPUT: `title_zh`, `actions-0-to`, `effects-1-amount`, …).

    spec = with_state_changed(spec, "review", settings, check)
    spec = without_state(spec, "cooling_off", check)   # refused while an action leads there
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from flask_babel import gettext as _

from formflow.auth.permissions import ROLES
from formflow.errors import Invalid
from formflow.forms.pointers import join
from formflow.processes.editor_problems import whole_number
from formflow.processes.spec_places import place_of
from formflow.processes.state_settings import StateSettings
from formflow.processes.titles import action_title, state_title

KINDS = ("form", "approval", "automatic", "final")
NAME = re.compile(r"[a-z][a-z0-9_]{0,79}")
DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")


class _Errors(list):
    def __init__(self, state: str):
        super().__init__()
        self.at = join("/workflow/states", state)

    def add(self, name: str, message: str) -> None:
        self.append({"pointer": join(self.at, name), "message": message})


def _texts(zh: str, en: str) -> dict:
    return {"zh-CN": zh, **({"en": en} if en else {})}


def _json(text: str, errors: _Errors, name: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        errors.add(name, _("Not valid JSON (JSONLogic is written as JSON)."))
        return None


def with_state_changed(spec: dict, name: str, settings: StateSettings, check) -> dict:
    edited = copy.deepcopy(spec)
    workflow = edited.get("workflow") if isinstance(edited.get("workflow"), dict) else {}
    states = workflow.get("states") if isinstance(workflow.get("states"), dict) else {}
    state = states.get(name)
    if not isinstance(state, dict):
        raise Invalid([{"pointer": "", "message": _("The workflow has no step %(name)s.", name=name)}])
    errors = _Errors(name)
    _write_head(state, settings, errors, start=name == workflow.get("start"))
    _write_approvals(state, settings, errors, edited)
    actions = _actions(state, settings, states, errors)
    _write_sla(state, settings, errors, actions)
    state["actions"] = actions
    if not actions:
        state.pop("actions")
    if settings.effects:
        state["on_enter"] = settings.effects
    else:
        state.pop("on_enter", None)
    if errors:
        raise Invalid(list(errors))
    problems = check(edited)
    if problems:
        raise Invalid([_at_input(problem, name, settings) for problem in problems])
    return edited


def _write_head(state: dict, settings: StateSettings, errors: _Errors, start: bool) -> None:
    if not settings.title_zh:
        errors.add("title_zh", _("Give the step a Chinese title."))
    if not settings.title_en:
        errors.add("title_en", _("Give the English text too."))
    state["title"] = _texts(settings.title_zh, settings.title_en)
    if settings.kind not in KINDS:
        errors.add("kind", _("Choose the kind of step."))
    state["kind"] = settings.kind
    if "final" in state:
        state["final"] = settings.kind == "final"
    if settings.assignee == "role":
        if settings.assignee_role not in ROLES:
            errors.add("assignee_role", _("Choose a role."))
        state["assignee"] = {"role": settings.assignee_role}
    elif settings.assignee == "field":
        if not settings.assignee_field.startswith("/"):
            errors.add("assignee_field", _("Give the field holding the username, as /field."))
        state["assignee"] = {"field": settings.assignee_field}
    elif settings.assignee:
        errors.add("assignee_role", _("Choose who the step is for."))
    else:
        state.pop("assignee", None)
    if settings.not_initiator:
        state["not_initiator"] = True
    else:
        state.pop("not_initiator", None)
    if settings.kind == "form" and not start and settings.fields:
        state["fields"] = list(dict.fromkeys(settings.fields))
    else:
        state.pop("fields", None)


def _whole(text: str, errors: _Errors, name: str) -> int | None:
    if whole_number(text) is None or int(text) < 1:
        errors.add(name, _("Give a whole number, 1 or more."))
        return None
    return int(text)


def _write_approvals(state: dict, settings: StateSettings, errors: _Errors, spec: dict) -> None:
    if settings.kind != "approval":
        state.pop("approvals", None)
        return
    approvals = state.get("approvals") if isinstance(state.get("approvals"), dict) else {}
    required: Any = None
    if settings.approvals == "threshold":
        base = _whole(settings.approvals_number, errors, "approvals_number")
        more = _whole(settings.approvals_more, errors, "approvals_more")
        properties = ((spec.get("form") or {}).get("schema") or {}).get("properties") or {}
        if settings.approvals_field not in properties:
            errors.add("approvals_field", _("Choose a field of the form."))
        if not settings.approvals_table or not settings.approvals_column:
            errors.add("approvals_table", _("Choose the table and its column."))
        lookup = {"lookup": [settings.approvals_table, {"var": "customer.tier"}, settings.approvals_column]}
        required = {"if": [{">": [{"var": "data." + settings.approvals_field}, lookup]}, more, base]}
    elif settings.approvals == "logic":
        required = _json(settings.approvals_logic, errors, "approvals_logic")
    elif settings.approvals_number:
        required = _whole(settings.approvals_number, errors, "approvals_number")
    if required is None:
        approvals.pop("required", None)
    else:
        approvals["required"] = required
    for key, on in (("distinct", settings.distinct), ("exclude_earlier_approvers", settings.exclude_earlier)):
        if on:
            approvals[key] = True
        else:
            approvals.pop(key, None)
    state["approvals"] = approvals


def _actions(state: dict, settings: StateSettings, states: dict, errors: _Errors) -> dict:
    old = state.get("actions") if isinstance(state.get("actions"), dict) else {}
    actions: dict[str, dict] = {}
    for index, row in enumerate(settings.actions):
        at = f"actions-{index}-"
        if not NAME.fullmatch(row.name):
            errors.add(
                at + "name",
                _("Use 1 to 80 characters: a lowercase letter, then lowercase letters, digits or _."),
            )
        elif row.name in actions:
            errors.add(at + "name", _("Another action of this step has this name."))
        if row.to not in states:
            errors.add(at + "to", _("Choose the step it leads to."))
        if any(role not in ROLES for role in row.roles):
            errors.add(at + "roles", _("Choose roles from the list."))
        before = old.get(row.old or row.name)
        action = dict(before) if isinstance(before, dict) else {}
        action["to"] = row.to
        if row.roles:
            before = [role for role in action.get("roles") or [] if role in row.roles]  # their order kept
            action["roles"] = list(dict.fromkeys([*before, *row.roles]))
        else:
            action.pop("roles", None)
        if row.title_zh or row.title_en:
            for language, text in (("title_zh", row.title_zh), ("title_en", row.title_en)):
                if not text:
                    errors.add(at + language, _("Give the title in both languages."))
            action["title"] = _texts(row.title_zh or row.title_en, row.title_en)
        else:
            action.pop("title", None)
        if row.guard:
            when = _json(row.guard, errors, at + "guard")
            if not row.guard_zh:
                errors.add(at + "guard_zh", _("Say why the action is refused (in Chinese)."))
            if not row.guard_en:
                errors.add(at + "guard_en", _("Give the English text too."))
            action["guard"] = {"when": when, "message": _texts(row.guard_zh, row.guard_en)}
        else:
            action.pop("guard", None)
        requires = [item for item, on in (("comment", row.comment), ("checklist", row.checklist)) if on]
        if requires:
            action["requires"] = requires
        else:
            action.pop("requires", None)
        if action.get("comment") == "required" and not row.comment:
            action.pop("comment")
        actions[row.name or f"-{index}"] = action
    return actions


def _write_sla(state: dict, settings: StateSettings, errors: _Errors, actions: dict) -> None:
    if not settings.sla_due:
        if settings.sla_remind or settings.sla_expire:
            errors.add("sla_due", _("Give the time allowed first."))
        state.pop("sla", None)
        return
    sla = state.get("sla") if isinstance(state.get("sla"), dict) else {}
    if settings.sla_due.startswith("{"):
        sla["due"] = _json(settings.sla_due, errors, "sla_due")
    else:
        if not DURATION.match(settings.sla_due):
            errors.add("sla_due", _("Write a duration such as P3D (3 days) or PT48H (48 hours)."))
        sla["due"] = settings.sla_due
    reminders = [part.strip() for part in settings.sla_remind.split(",") if part.strip()]
    if any(not DURATION.match(part) for part in reminders):
        errors.add("sla_remind", _("Write each reminder as a duration such as PT8H, separated by commas."))
    if reminders:
        sla["remind_before"] = reminders
    else:
        sla.pop("remind_before", None)
    if settings.sla_expire == "escalate":
        if settings.sla_expire_role not in ROLES:
            errors.add("sla_expire_role", _("Choose a role."))
        sla["on_expire"] = {"do": "escalate", "role": settings.sla_expire_role}
    elif settings.sla_expire == "action":
        if settings.sla_expire_action not in actions:
            errors.add("sla_expire_action", _("Choose an action of this step."))
        sla["on_expire"] = {"do": "action", "action": settings.sla_expire_action}
    elif settings.sla_expire:
        errors.add("sla_expire", _("Choose what happens when it runs out."))
    else:
        sla.pop("on_expire", None)
    state["sla"] = sla


def without_state(spec: dict, name: str, check, instead: str = "") -> dict:
    """A copy of `spec` without the step, the actions that led to it leading to `instead`;
    Invalid while an action leads to it and no `instead` is chosen (each action named), when
    anything else still refers to it, and for the workflow's first step."""
    edited = copy.deepcopy(spec)
    workflow = edited.get("workflow") if isinstance(edited.get("workflow"), dict) else {}
    states = workflow.get("states") if isinstance(workflow.get("states"), dict) else {}
    at = join("/workflow/states", name, "remove")
    if name not in states:
        raise Invalid([{"pointer": at, "message": _("The workflow has no step %(name)s.", name=name)}])
    if name == workflow.get("start"):
        raise Invalid([{"pointer": at, "message": _("The first step of the workflow cannot be removed.")}])
    leading = [
        f"{state_title(spec, source)} → {action_title(spec, action_name, source)}"
        for source, state in states.items()
        if source != name and isinstance(state, dict)
        for action_name, action in (state.get("actions") or {}).items()
        if isinstance(action, dict) and action.get("to") == name
    ]
    if instead and instead in states and instead != name:
        for state in states.values():
            for action in (state.get("actions") or {}).values() if isinstance(state, dict) else ():
                if isinstance(action, dict) and action.get("to") == name:
                    action["to"] = instead
    elif leading:
        message = _("These actions still lead to this step: %(actions)s. Point them elsewhere first.",
                    actions="; ".join(leading))  # fmt: skip
        raise Invalid([{"pointer": at, "message": message}])
    del states[name]
    problems = check(edited)
    if problems:
        uses = sorted({place_of(spec, problem.get("pointer") or "") for problem in problems})
        message = _(
            "The step is still used by: %(uses)s. Change or remove those first.", uses="; ".join(uses)
        )
        raise Invalid([{"pointer": at, "message": message}])
    return edited


_HEAD = (
    ("title", "title_zh"), ("kind", "kind"), ("assignee/field", "assignee_field"),
    ("assignee", "assignee_role"), ("not_initiator", "not_initiator"), ("fields", "fields"),
    ("approvals/required", "approvals_number"), ("approvals/approve", "approvals_number"),
    ("approvals/reject", "approvals_number"), ("approvals", "approvals_number"),
    ("sla/due", "sla_due"), ("sla/remind_before", "sla_remind"), ("sla/on_expire", "sla_expire"),
    ("sla", "sla_due"),
)  # fmt: skip


def _at_input(problem: dict, name: str, settings: StateSettings) -> dict:
    base = join("/workflow/states", name)
    pointer = problem.get("pointer") or ""
    if not pointer.startswith(base + "/"):
        return problem
    below = pointer[len(base) + 1 :]
    parts = below.split("/")
    if parts[0] == "actions" and len(parts) > 1:
        names = [row.name for row in settings.actions]
        if parts[1] in names:
            index = names.index(parts[1])
            column = {"to": "to", "roles": "roles", "guard": "guard", "title": "title_zh"}.get(
                parts[2] if len(parts) > 2 else "", "name"
            )
            return {**problem, "pointer": join(base, f"actions-{index}-{column}")}
    if parts[0] == "on_enter" and len(parts) > 1 and parts[1].isdigit():
        suffix = f"-{parts[2]}" if len(parts) > 2 and parts[2] != "effect" else ""
        return {**problem, "pointer": join(base, f"effects-{parts[1]}{suffix}")}
    for prefix, field in _HEAD:
        if below == prefix or below.startswith(prefix + "/"):
            if field == "approvals_number" and settings.approvals == "logic":
                field = "approvals_logic"
            elif (
                below.startswith("approvals/required")
                and "lookup" in below
                and settings.approvals == "threshold"
            ):
                field = "approvals_column" if below.endswith("/2") else "approvals_table"
            return {**problem, "pointer": join(base, field)}
    return problem
