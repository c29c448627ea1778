"""Inserting a workflow step between two others without JSON: the action that led from one
state to the next now leads to the new step, whose own action goes on to where the first one
went; optionally with an SLA whose expiry takes that action (a waiting period) — the spec's
checks decide, each problem shown at its field.

    spec = inserted(spec, Step(after="preliminary_notice:start_rectification", name="cooling_off", …))
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from flask_babel import gettext as _

from formflow.auth.permissions import ROLES
from formflow.errors import Invalid
from formflow.forms.pointers import join
from formflow.forms.texts import localized

NAME = re.compile(r"[a-z][a-z0-9_]{0,79}")
#: the form's fields, as the pointers below the new state name them
FIELDS = ("after", "name", "title_zh", "title_en", "role", "action_zh", "action_en", "due")


@dataclass(frozen=True)
class Step:
    after: str = ""  # "state:action", the arrow the step goes on
    name: str = ""
    title_zh: str = ""
    title_en: str = ""
    role: str = ""  # who acts on the step (assignee and the action's role)
    action_zh: str = ""
    action_en: str = ""
    due: str = ""  # ISO 8601 duration; its expiry takes the step's action


def arrows(spec: dict) -> list[tuple[str, str]]:
    """("state:action", "State → Action → Next state") of every action, in spec order."""
    states = (spec.get("workflow") or {}).get("states") or {}
    found = []
    for name, state in states.items():
        for action_name, action in ((state or {}).get("actions") or {}).items():
            target = action.get("to") if isinstance(action, dict) else None
            if target in states:
                label = " → ".join(
                    (
                        localized(state.get("title")) or name,
                        localized(action.get("title")) or action_name,
                        localized(states[target].get("title")) or target,
                    )
                )
                found.append((f"{name}:{action_name}", label))
    return found


def from_form(form) -> Step:
    return Step(**{field: (form.get(field) or "").strip() for field in FIELDS})


def inserted(spec: dict, step: Step, check) -> dict:
    """A copy of `spec` with `step` on the arrow `step.after`; Invalid with the pointers of the
    new state's fields (/workflow/states/NAME/…) for what is wrong, `check` (the spec's checks)
    included."""
    states = (spec.get("workflow") or {}).get("states") or {}
    source, _sep, action_name = step.after.partition(":")
    action = ((states.get(source) or {}).get("actions") or {}).get(action_name)
    at = join("/workflow/states", step.name or "-")
    errors = []
    if not isinstance(action, dict) or action.get("to") not in states:
        errors.append({"pointer": join(at, "after"), "message": _("Choose the arrow the step goes on.")})
    if not NAME.fullmatch(step.name):
        message = _("Use 1 to 80 characters: a lowercase letter, then lowercase letters, digits or _.")
        errors.append({"pointer": join(at, "name"), "message": message})
    elif step.name in states:
        errors.append({"pointer": join(at, "name"), "message": _("Another step already has this name.")})
    if not step.title_zh:
        errors.append({"pointer": join(at, "title_zh"), "message": _("Give the step a Chinese title.")})
    if step.role not in ROLES:
        errors.append({"pointer": join(at, "role"), "message": _("Choose who acts on the step.")})
    if not step.action_zh:
        errors.append({"pointer": join(at, "action_zh"), "message": _("Name the action that goes on.")})
    if errors:
        raise Invalid(errors)
    edited = copy.deepcopy(spec)
    edited_states = edited["workflow"]["states"]
    target = edited_states[source]["actions"][action_name]["to"]
    edited_states[source]["actions"][action_name]["to"] = step.name
    new = {
        "kind": "automatic",
        "title": _texts(step.title_zh, step.title_en),
        "actions": {
            "continue": {"to": target, "roles": [step.role], "title": _texts(step.action_zh, step.action_en)}
        },
    }
    new["assignee"] = {"role": step.role}
    if step.due:
        new["sla"] = {"due": step.due, "on_expire": {"do": "action", "action": "continue"}}
    edited_states[step.name] = new
    problems = check(edited)
    if problems:
        raise Invalid([_at_field(problem, step.name) for problem in problems])
    return edited


def _texts(zh: str, en: str) -> dict:
    return {"zh-CN": zh, **({"en": en} if en else {})}


def _at_field(problem: dict, name: str) -> dict:
    """The spec's pointer of a problem of the new state, as the field of the form it concerns."""
    base = join("/workflow/states", name)
    pointer = problem.get("pointer") or ""
    if pointer == base or not pointer.startswith(base + "/"):
        return problem if pointer != base else {**problem, "pointer": join(base, "name")}
    below = pointer[len(base) + 1 :]
    for prefix, field in (
        ("sla", "due"),
        ("actions/continue/roles", "role"),
        ("assignee", "role"),
        ("actions/continue/title", "action_zh"),
        ("title", "title_zh"),
    ):
        if below.startswith(prefix):
            return {**problem, "pointer": join(base, field)}
    return problem
