"""Checks of a spec's `workflow` at save/import/publish: states that do not exist, roles
nobody has, states nobody can reach or from which no final state can be reached, guards
and approval counts that fail `rules.check`, effects with a bad configuration. Every
problem has a JSON Pointer into the spec."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _

from formflow.auth.permissions import ROLES
from formflow.effects import check_effect
from formflow.forms.pointers import join
from formflow.notices import check_notices
from formflow.processes.field_schemas import field_schema, known_vars
from formflow.processes.rule_inputs import spec_tables
from formflow.rules import check as check_rule


def check_workflow(spec: dict, already: Iterable[dict] = ()) -> list[dict]:
    workflow = spec.get("workflow") if isinstance(spec, dict) else None
    if not isinstance(workflow, dict):
        return []
    refused = {error["pointer"] for error in already}
    if any(pointer.startswith("/workflow") for pointer in refused):
        return []  # the meta-schema already refused its shape; the meaning would only add noise
    states = workflow.get("states") or {}
    problems: list[dict] = []
    where = "/workflow"

    def problem(pointer: str, message: str) -> None:
        problems.append({"pointer": pointer, "message": message})

    if workflow.get("start") not in states:
        problem(join(where, "start"), _unknown_state(workflow.get("start"), states))
    finals = [name for name, state in states.items() if _is_final(state)]
    if not finals:
        problem(join(where, "states"), _("No final state: every case must be able to end."))
    variables = known_vars(spec)
    tables = {name: table["columns"] for name, table in spec_tables(spec).items()}
    for name, state in states.items():
        at = join(where, "states", name)
        actions = state.get("actions") or {}
        if _is_final(state) and actions:
            problem(join(at, "actions"), _("A final state has no actions."))
        assignee = state.get("assignee") or {}
        if assignee.get("role") and assignee["role"] not in ROLES:
            problem(join(at, "assignee", "role"), _unknown_role(assignee["role"]))
        if assignee.get("field") and not field_schema(
            (spec.get("form") or {}).get("schema") or {}, assignee["field"]
        ):
            problem(
                join(at, "assignee", "field"), _("The form has no field %(field)s.", field=assignee["field"])
            )
        for action_name, action in actions.items():
            action_at = join(at, "actions", action_name)
            if action.get("to") not in states:
                problem(join(action_at, "to"), _unknown_state(action.get("to"), states))
            for index, role in enumerate(action.get("roles") or []):
                if role not in ROLES:
                    problem(join(action_at, "roles", index), _unknown_role(role))
            guard = action.get("guard") or {}
            if "when" in guard:
                problems.extend(_rule(guard["when"], join(action_at, "guard", "when"), variables, tables))
            if "checklist" in (action.get("requires") or []) and not state.get("checklist"):
                problem(join(action_at, "requires"), _("This state has no checklist to complete."))
        approvals = state.get("approvals") or {}
        if isinstance(approvals.get("required"), dict | list):
            problems.extend(
                _rule(approvals["required"], join(at, "approvals", "required"), variables, tables)
            )
        elif "required" in approvals and not (
            isinstance(approvals["required"], int) and not isinstance(approvals["required"], bool)
            and approvals["required"] >= 0
        ):  # fmt: skip
            problem(join(at, "approvals", "required"), _("A whole number, or JSONLogic giving one."))
        for key, default in (("approve", "approve"), ("reject", "reject")):
            named = approvals.get(key, default if state.get("kind") == "approval" else None)
            if named and key in approvals and named not in actions:
                problem(join(at, "approvals", key), _("The state has no action “%(action)s”.", action=named))
        if state.get("kind") == "approval" and approvals.get("approve", "approve") not in actions:
            problem(join(at, "actions"), _("An approval state needs its approve action (“%(action)s”).",
                                            action=approvals.get("approve", "approve")))  # fmt: skip
        seen: set[str] = set()
        for index, item in enumerate(state.get("checklist") or []):
            if item.get("id") in seen:
                problem(join(at, "checklist", index, "id"), _("Another item already has this id."))
            seen.add(item.get("id"))
            if isinstance(item.get("required"), dict | list):
                problems.extend(
                    _rule(item["required"], join(at, "checklist", index, "required"), variables, tables)
                )
        expire = (state.get("sla") or {}).get("on_expire") or {}
        if expire.get("do") == "action" and expire.get("action") not in actions:
            problem(join(at, "sla", "on_expire", "action"), _("The state has no action “%(action)s”.",
                                                               action=expire.get("action")))  # fmt: skip
        if expire.get("do") == "escalate" and expire.get("role") not in ROLES:
            problem(join(at, "sla", "on_expire", "role"), _unknown_role(expire.get("role")))
        problems.extend(_effect_problems(state, at, spec, variables, tables))
    problems.extend(check_notices(workflow))
    if not problems:
        problems.extend(_reachability(workflow, states, where))
    return problems


def _is_final(state: dict) -> bool:
    return state.get("kind") == "final" or bool(state.get("final"))


def _rule(rule: Any, pointer: str, variables: list[str], tables: dict) -> list[dict]:
    return [
        {"pointer": pointer + problem["pointer"], "message": problem["message"]}
        for problem in check_rule(rule, known_vars=variables, tables=tables)
    ]


def _effect_problems(state: dict, at: str, spec: dict, variables: list[str], tables: dict) -> list[dict]:
    problems = []
    for index, config in enumerate(state.get("on_enter") or []):
        for found in check_effect(config, spec, known_vars=variables, tables=tables):
            problems.append(
                {"pointer": join(at, "on_enter", index) + found["pointer"], "message": found["message"]}
            )
    return problems


def reachability(workflow: dict, states: dict) -> tuple[dict[str, set], set[str], set[str]]:
    """(edges: state -> the states its actions lead to, the states reached from the start, the
    states from which a final state can be reached). Read by the checks and the diagram."""
    edges = {
        name: {a.get("to") for a in (s.get("actions") or {}).values() if isinstance(a, dict)}
        for name, s in states.items()
        if isinstance(s, dict)
    }
    for name, state in states.items():
        expire = ((state.get("sla") or {}).get("on_expire") or {}) if isinstance(state, dict) else {}
        if expire.get("do") == "action":
            edges[name].add(((state.get("actions") or {}).get(expire.get("action")) or {}).get("to"))
    start = workflow.get("start")
    reached, frontier = ({start}, [start]) if start in states else (set(), [])
    while frontier:
        for target in edges.get(frontier.pop(), ()):
            if target in states and target not in reached:
                reached.add(target)
                frontier.append(target)
    ending = {name for name, state in states.items() if isinstance(state, dict) and _is_final(state)}
    changed = True
    while changed:
        changed = False
        for name, targets in edges.items():
            if name not in ending and targets & ending:
                ending.add(name)
                changed = True
    return edges, reached, ending


def _reachability(workflow: dict, states: dict, where: str) -> list[dict]:
    _edges, reached, ending = reachability(workflow, states)
    problems = [
        {
            "pointer": join(where, "states", name),
            "message": _("No action leads to this state from the start."),
        }
        for name in states
        if name not in reached
    ]
    problems += [
        {"pointer": join(where, "states", name), "message": _("No final state can be reached from here.")}
        for name in states
        if name in reached and name not in ending
    ]
    return problems


def _unknown_state(name: Any, states: dict) -> str:
    close = difflib.get_close_matches(str(name), list(states), n=1)
    if close:
        return _("No state “%(name)s”; did you mean “%(suggestion)s”?", name=name, suggestion=close[0])
    return _("No state “%(name)s”.", name=name)


def _unknown_role(name: Any) -> str:
    return _("No role “%(name)s” (roles: %(roles)s).", name=name, roles=", ".join(ROLES))
