"""Why a case is as it is: the evaluation of each of its rule results (validate, visible,
required, enable, compute) and of each number or condition its workflow decides by a rule
(approvals required, guards, checklist items required), from `formflow.rules.explain`.

The results are the ones the case page and the API show (`evaluate_rules`, the engine);
each explanation is the engine's own trace of the same rule over the same context."""

from __future__ import annotations

from formflow.processes.form_rules import KINDS, apply_rules, version_tables
from formflow.processes.rule_explanations import by_result, explained_results, with_texts
from formflow.rules.errors import RuleError
from formflow.rules.explain import explain


def case_explanation(case, user=None) -> dict:
    """`{"rules": [{"id", "kind", "pointer", "result", "explain"}], "approvals_required",
    "guards": [{"action", "explain"}], "checklist": [{"id", "explain"}]}` for `case` as
    `user` sees it; approvals_required is null outside an approval step."""
    from formflow.workflows import engine

    workflow = engine.workflow_of(case.version)
    return {
        "rules": rule_explanations(case),
        "approvals_required": approvals_explanation(case) if workflow else None,
        "guards": guard_explanations(case, user) if workflow else [],
        "checklist": checklist_explanations(case) if workflow else [],
    }


def _context(case, user=None) -> dict:
    from formflow.workflows import engine

    return engine.rule_context_for(case, user)


def rule_explanations(case) -> list[dict]:
    """One entry per rule result of the case's form rules over its current data."""
    spec = case.version.spec or {}
    if not any(isinstance(r, dict) and r.get("kind") in KINDS for r in spec.get("rules") or []):
        return []
    tables = version_tables(case.version)
    context = _context(case)
    try:
        data, outcome = apply_rules(spec, case.data or {}, context, tables=tables, previous=case.data or {})
    except RuleError:
        return []
    return explained_results(spec, data, context, outcome, tables)


def approvals_explanation(case) -> dict | None:
    """How many approvals the current step needs, and why (null outside an approval step)."""
    from formflow.workflows import engine

    state = engine.state_spec(case)
    if state.get("kind") != "approval" and "approvals" not in state:
        return None
    approvals = state.get("approvals") if isinstance(state.get("approvals"), dict) else {}
    return explain(approvals.get("required", 1), _context(case), version_tables(case.version))


def guard_explanations(case, user=None) -> list[dict]:
    """Each guarded action of the current step: whether its condition holds, and why."""
    from formflow.workflows import engine

    state = engine.state_spec(case)
    actions = state.get("actions") if isinstance(state.get("actions"), dict) else {}
    guarded = [
        (name, action["guard"]["when"])
        for name, action in actions.items()
        if isinstance(action, dict) and isinstance(action.get("guard"), dict) and "when" in action["guard"]
    ]
    if not guarded:
        return []
    context, tables = _context(case, user), version_tables(case.version)
    return [{"action": name, "explain": explain(when, context, tables)} for name, when in guarded]


def checklist_explanations(case) -> list[dict]:
    """Each checklist item of the current step whose `required` is a rule."""
    from formflow.workflows import checklists

    items = [item for item in checklists.spec_items(case) if isinstance(item.get("required"), dict | list)]
    if not items:
        return []
    context, tables = _context(case), version_tables(case.version)
    return [{"id": item["id"], "explain": explain(item["required"], context, tables)} for item in items]


def for_page(case, user=None) -> dict:
    """`{"approvals_required": explanation | None, "rules": {(rule id, pointer): explanation},
    "guards": {action: explanation}, "checklist": {item id: explanation}}`, each read with
    its `text` (`data.amount = 3000`) in the user's language."""
    from formflow.workflows import engine

    workflow = engine.workflow_of(case.version)
    approvals = approvals_explanation(case) if workflow else None
    return {
        "approvals_required": with_texts(approvals) if approvals else None,
        "rules": by_result(rule_explanations(case)),
        "guards": {
            entry["action"]: with_texts(entry["explain"])
            for entry in (guard_explanations(case, user) if workflow else [])
        },
        "checklist": {
            entry["id"]: with_texts(entry["explain"])
            for entry in (checklist_explanations(case) if workflow else [])
        },
    }
