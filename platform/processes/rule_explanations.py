"""Why a form's rules gave their results: the engine's trace (`formflow.rules.explain`) of
each rule result of one run of a spec's rules over one context, keyed by (rule id, pointer).

Used wherever results are shown: the case page and API (workflows.explaining), the try-it
panel and the what-if replay (formflow.trials)."""

from __future__ import annotations

from datetime import date
from typing import Any

from formflow.processes.form_rules import KINDS, RuleOutcome, expand
from formflow.rules.explain import explain, value_text


def explained_results(
    spec: dict, data: dict, context: dict, outcome: RuleOutcome, tables: dict, today: date | None = None
) -> list[dict]:
    """`[{"id", "kind", "pointer", "result", "explain"}]`, one per rule result in `outcome`
    (and per rule that failed where it has no result: its explanation says why), each
    explained over `context` with `data` (the data after the run: computed values stored),
    with `row` and `index` inside a group."""
    rules = {
        rule.get("id"): rule
        for rule in spec.get("rules") or []
        if isinstance(rule, dict) and rule.get("kind") in KINDS
    }
    entries = [(found["id"], found["kind"], found["pointer"], found["value"]) for found in outcome.results]
    seen = {(rule_id, pointer) for rule_id, _kind, pointer, _value in entries}
    for error in outcome.errors:
        rule = rules.get(error.get("rule"))
        if rule is not None and (error.get("rule"), error["pointer"]) not in seen:
            entries.append((error["rule"], rule.get("kind"), error["pointer"], None))
            seen.add((error["rule"], error["pointer"]))
    out = []
    for rule_id, kind, pointer, value in entries:
        rule = rules.get(rule_id)
        if rule is None:
            continue
        expression = rule.get("value") if kind == "compute" else rule.get("when")
        at = row_context(context, data, rule, pointer)
        out.append(
            {
                "id": rule_id,
                "kind": kind,
                "pointer": pointer,
                "result": value,
                "explain": explain(expression, at, tables, today=today),
            }
        )
    return out


def by_result(entries: list[dict]) -> dict[tuple[str, str], dict]:
    """{(rule id, pointer): explanation with its reads' texts} for a page."""
    return {(entry["id"], entry["pointer"]): with_texts(entry["explain"]) for entry in entries}


def row_context(context: dict, data: dict, rule: dict, pointer: str) -> dict:
    """The context the rule saw at `pointer`: with `row` and `index` inside a group."""
    for concrete, row, index in expand(rule.get("field", ""), data):
        if concrete == pointer and row is not None:
            return {**context, "data": data, "row": row, "index": index}
    return {**context, "data": data}


def with_texts(explanation: dict) -> dict:
    """The explanation with each value read as one line of text (`data.amount = 3000`)."""
    reads = []
    for entry in explanation.get("reads") or []:
        if "path" in entry:
            what = entry["path"]
        else:
            what = f"lookup({', '.join(value_text(argument) for argument in entry['lookup'])})"
        reads.append({**entry, "text": f"{what} = {value_text(entry.get('value'))}"})
    return {**explanation, "reads": reads}


def explained(expression: Any, context: dict, tables: dict, today: date | None = None) -> dict:
    """One rule-decided value (approvals required, a guard) explained, with its reads' texts."""
    return with_texts(explain(expression, context, tables, today=today))
