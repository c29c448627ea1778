"""A case's workflow as its version's spec has it: the workflow, the current state's spec,
whether it is a form or final step, texts in the user's language, and the rule context
guards and approval counts are evaluated over."""

from __future__ import annotations

from typing import Any

from formflow import rules
from formflow.forms.texts import localized
from formflow.processes.form_rules import rule_context, version_tables
from formflow.records.checking import case_context


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


def rule_context_for(case, user=None) -> dict:
    return rule_context(
        case.data or {}, customer=case.customer, case=case_context(case, case.version), user=user
    )


def evaluate(case, expression: Any, user=None, rule_id: str | None = None) -> Any:
    context = rules.prepare(rule_context_for(case, user), version_tables(case.version))
    return rules.compile(expression).evaluate(context, rule_id=rule_id)
