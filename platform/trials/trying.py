"""The admin "try it" panel: a process version's rules over a context typed in, or taken
from a past case of the process, with each rule's result. Read-only: nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import exactjson
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.forms.texts import localized
from formflow.jsonerrors import describe
from formflow.processes import spec_tests
from formflow.processes.form_rules import KIND_LABELS, truthy, version_tables
from formflow.processes.models import ProcessVersion
from formflow.processes.rule_explanations import by_result, explained_results
from formflow.processes.spec import check_test_context
from formflow.records.models import Case

#: How many past cases the panel offers.
RECENT_CASES = 20

SAMPLE_CUSTOMER = {"code": "C001", "name": "Sample customer", "tier": "A", "status": "active"}


@dataclass
class RuleRow:
    """One rule's result on one field (a row rule has one per row)."""

    id: str
    kind: str
    pointer: str
    value: Any = None
    ran: bool = True
    passed: bool | None = None  # validate/visible/required/enable: the condition held
    error: str | None = None
    title: str = ""  # the rule's title, when the spec gives one
    #: why the rule gave its result here (processes.rule_explanations, reads as texts)
    explain: dict | None = None

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


@dataclass
class TryResult:
    rows: list[RuleRow]
    computed: dict[str, Any]
    errors: list[dict]
    hidden: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def sample_context() -> dict:
    """What the panel starts from: an empty form for a tier A customer."""
    return {"data": {}, "customer": dict(SAMPLE_CUSTOMER)}


def context_text(context: dict) -> str:
    return exactjson.dumps(context, indent=2)


def parse_context(text: str) -> dict:
    """The context typed into the panel; Invalid with pointers when it is not one."""
    try:
        context = exactjson.loads(text or "")
    except ValueError as error:
        raise Invalid(
            [{"pointer": "", "message": _("Not valid JSON: %(error)s", error=describe(error))}]
        ) from None
    errors = check_test_context(context)
    if errors:
        raise Invalid(errors)
    return context


def recent_cases(version: ProcessVersion, limit: int = RECENT_CASES) -> list[Case]:
    """The newest cases of the version's process (any version), newest first."""
    return list(
        db.session.execute(
            sa.select(Case)
            .where(Case.process_id == version.process_id)
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(limit)
        ).scalars()
    )


def chosen_context(version: ProcessVersion, text: str, case_id: int | None, use_case: bool) -> dict:
    """The chosen past case's context (`use_case`), else the one typed in."""
    if not use_case:
        return parse_context(text)
    if not case_id:
        raise Invalid([{"pointer": "", "message": _("Choose a case first.")}])
    return case_context(version, case_id)


def case_context(version: ProcessVersion, case_id: int) -> dict:
    """A past case's data and customer as a context; Invalid when it is not of this process."""
    case = db.session.get(Case, case_id)
    if case is None or case.process_id != version.process_id:
        raise Invalid([{"pointer": "", "message": _("No case %(id)d of this process.", id=case_id)}])
    return {
        "data": case.data or {},
        "customer": case.customer.snapshot(),
        "case": {
            "id": case.id,
            "state": case.state,
            "process": case.process.key,
            "version": case.version.number,
        },
    }


def try_rules(version: ProcessVersion, context: dict) -> TryResult:
    """Every rule of `version` over `context`, with the computed values and the verdict."""
    tables = version_tables(version)
    evaluation = spec_tests.evaluate(version.spec, context, tables=tables)
    outcome = evaluation.outcome
    why = by_result(
        explained_results(
            version.spec, evaluation.data, evaluation.context, outcome, tables, evaluation.today
        )
    )
    rows: list[RuleRow] = []
    for rule in version.spec.get("rules") or []:
        rule_id, kind = rule.get("id", ""), rule.get("kind", "")
        title = localized(rule.get("title"))
        results = [result for result in outcome.results if result["id"] == rule_id]
        problems = [error for error in outcome.errors if error.get("rule") == rule_id]
        for result in results:
            passed = None if kind == "compute" else truthy(result["value"])
            message = next((e["message"] for e in problems if e["pointer"] == result["pointer"]), None)
            explanation = why.get((rule_id, result["pointer"]))
            row = RuleRow(rule_id, kind, result["pointer"], result["value"], True, passed, message, title)
            row.explain = explanation
            rows.append(row)
        reached = {result["pointer"] for result in results}
        for problem in problems:  # failed at run time: no result at that pointer
            if problem["pointer"] not in reached:
                rows.append(
                    RuleRow(
                        rule_id,
                        kind,
                        problem["pointer"],
                        passed=False,
                        error=problem["message"],
                        title=title,
                        explain=why.get((rule_id, problem["pointer"])),
                    )
                )
        if not results and not problems:
            rows.append(RuleRow(rule_id, kind, rule.get("field", ""), ran=False, title=title))
    return TryResult(
        rows=rows,
        computed=dict(outcome.computed),
        errors=evaluation.errors,
        hidden=sorted(outcome.hidden),
        required=sorted(evaluation.required),
        disabled=sorted(outcome.disabled),
        data=evaluation.data,
    )


def shown(value: Any) -> str:
    """A value as JSON text for the page (decimals digit for digit)."""
    return spec_tests.shown(value)
