"""The check of a spec's `screening` (offboarding screening, run by `formflow tick` in
cases/screening.py): its rule and each data value are JSONLogic over {customer, facts}, the
data's targets are fields of the form, and what it counts names processes."""

from __future__ import annotations

from flask_babel import gettext as _

from formflow import rules
from formflow.forms.pointers import escape
from formflow.processes.field_schemas import field_schema

#: what a screening rule sees of a customer
FACTS = (
    "consecutive_late_payments",
    "late_payments",
    "open_receivable",
    "receivable_age_days",
    "violations",
    "complaints",
    "credit_flag",
)
KNOWN = ("customer", *(f"facts.{name}" for name in FACTS), "now")


def check_screening(spec: dict) -> list[dict]:
    screening = spec.get("screening")
    if not isinstance(screening, dict):
        return []
    problems = [
        {**problem, "pointer": "/screening/when" + problem["pointer"]}
        for problem in rules.check(screening.get("when"), known_vars=KNOWN)
    ]
    form = spec.get("form") if isinstance(spec.get("form"), dict) else {}
    schema = form.get("schema") if isinstance(form.get("schema"), dict) else {}
    for target, expression in (screening.get("data") or {}).items():
        at = "/screening/data/" + escape(target)
        if not field_schema(schema, target):
            problems.append({"pointer": at, "message": _("The form has no field %(field)s.", field=target)})
        if isinstance(expression, dict | list):
            problems.extend(
                {**problem, "pointer": at + problem["pointer"]}
                for problem in rules.check(expression, known_vars=KNOWN)
            )
    return problems
