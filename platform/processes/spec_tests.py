"""A spec's own `tests` (docs/rules-spec.md): each test's context goes through the rules
(`apply_rules`) and the form's JSON Schema, and what came out is compared with what the test
expects. `formflow check` runs them, and publishing is refused while one fails.

`evaluate` is the one evaluation both the tests and the admin "try it" panel use. An
`expect` may also name `approvals_required`: the workflow engine checks that (a later issue),
the rules ignore it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from formflow import exactjson, forms
from formflow.errors import Invalid
from formflow.forms.pointers import resolve
from formflow.forms.schema_tree import Tree
from formflow.processes.form_rules import RuleOutcome, apply_rules, rule_context


@dataclass
class Evaluation:
    """What the rules and the schema make of one context."""

    data: dict  # after the rules: computed values stored, hidden values dropped
    outcome: RuleOutcome
    errors: list[dict]  # {"pointer", "message", "rule"?}: rule errors, then the schema's
    required: set[str]  # concrete pointers required now (by a rule or the schema), shown ones
    context: dict | None = None  # the rule context the rules ran over
    today: date | None = None  # the business date of its `now`

    @property
    def valid(self) -> bool:
        return not self.errors

    def visible(self, pointer: str) -> bool:
        return not self.outcome.is_hidden(pointer)

    def enabled(self, pointer: str) -> bool:
        return not any(pointer == off or pointer.startswith(off + "/") for off in self.outcome.disabled)


def evaluate(spec: dict, context: dict, *, tables: dict | None = None) -> Evaluation:
    """`context` ({data, customer, account, case, user, now}) through the spec's rules, then
    the form's schema, as a case submit does; `now` also fixes "today" for date operators."""
    schema = (spec.get("form") or {}).get("schema") or {}
    data = context.get("data") or {}
    now = context.get("now")
    full_context = rule_context(
        data,
        customer=context.get("customer") or {},
        account=context.get("account") or {},
        case=context.get("case") or {},
        user=context.get("user") or {},
        now=now,
    )
    after, outcome = apply_rules(spec, data, full_context, today=business_date(now), tables=tables)
    errors = [dict(error) for error in outcome.errors]
    reported = {error["pointer"] for error in errors}
    for error in forms.validate(schema, after):
        target = error.get("field") or error["pointer"]
        if target in reported or outcome.is_hidden(target):
            continue  # one message per field; a hidden field is not required
        errors.append({"pointer": target, "message": error["message"]})
        reported.add(target)
    return Evaluation(
        after, outcome, errors, _required(schema, after, outcome), full_context, business_date(now)
    )


def business_date(now: Any) -> date | None:
    """The business date of an RFC 3339 `now` (None when absent or unreadable: today)."""
    if not isinstance(now, str):
        return None
    try:
        moment = datetime.fromisoformat(now)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.date()
    from formflow.forms.values import business_zone

    return moment.astimezone(business_zone()).date()


def _required(schema: dict, data: dict, outcome: RuleOutcome) -> set[str]:
    """Pointers required now: by a `required` rule, or by the schema for this data
    (its if/then branches applied); a hidden field is never required."""
    required = set(outcome.required)
    for node in Tree(schema).build(data).walk():
        if node.pointer and node.required:
            required.add(node.pointer)
    return {pointer for pointer in required if not outcome.is_hidden(pointer)}


# --- running the tests ----------------------------------------------------------------------


def run(spec: dict, *, tables: dict | None = None) -> list[dict]:
    """Every failing expectation of every test: `{"pointer": "/tests/N", "message"}`, the
    message saying what was expected and what came out. [] when all pass."""
    failures = []
    for index, test in enumerate(spec.get("tests") or []):
        for message in run_test(spec, test, tables=tables):
            failures.append({"pointer": f"/tests/{index}", "message": message})
    return failures


def run_test(spec: dict, test: dict, *, tables: dict | None = None) -> list[str]:
    """The failures of one test (messages), [] when it passes."""
    name = test.get("name", "")
    expect = test.get("expect") or {}
    try:
        result = evaluate(spec, test.get("context") or {}, tables=tables)
    except Invalid as invalid:
        problems = "; ".join(error["message"] for error in invalid.errors)
        return [_("could not run: %(problems)s (test “%(name)s”)", problems=problems, name=name)]
    mismatches = _validity(expect, result)
    mismatches += _flags(expect.get("visible"), result.visible, _("visible"), _("hidden"))
    mismatches += _flags(
        expect.get("required"), lambda pointer: pointer in result.required, _("required"), _("not required")
    )
    mismatches += _flags(expect.get("enabled"), result.enabled, _("enabled"), _("read-only"))
    mismatches += _computed(expect.get("computed"), result)
    return [_("%(mismatch)s (test “%(name)s”)", mismatch=mismatch, name=name) for mismatch in mismatches]


def _listed(errors: list[dict]) -> str:
    ordered = sorted(errors, key=lambda error: error["pointer"])
    return "; ".join(f"{error['pointer'] or '/'}: {error['message']}" for error in ordered)


def _validity(expect: dict, result: Evaluation) -> list[str]:
    mismatches = []
    count = len(result.errors)
    if expect.get("valid") is True and count:
        mismatches.append(
            _("expected valid, got %(n)d error(s): %(errors)s", n=count, errors=_listed(result.errors))
        )
    elif expect.get("valid") is False and not count:
        mismatches.append(_("expected errors, got valid"))
    if "errors" in expect and not mismatches:  # "expected valid, got …" already lists them
        expected = set(expect["errors"])
        actual = {error["pointer"] for error in result.errors}
        if expected != actual:
            wanted = ", ".join(sorted(expected)) or _("none")
            got = _listed(result.errors) or _("none")
            mismatches.append(
                _("expected errors at %(expected)s, got %(actual)s", expected=wanted, actual=got)
            )
    return mismatches


def _flags(expected: dict | None, actual_of, yes: str, no: str) -> list[str]:
    mismatches = []
    for pointer, wanted in (expected or {}).items():
        actual = actual_of(pointer)
        if actual != wanted:
            mismatches.append(
                _(
                    "%(pointer)s: expected %(expected)s, got %(actual)s",
                    pointer=pointer,
                    expected=yes if wanted else no,
                    actual=yes if actual else no,
                )
            )
    return mismatches


def _computed(expected: dict | None, result: Evaluation) -> list[str]:
    mismatches = []
    for pointer, wanted in (expected or {}).items():
        actual = result.outcome.computed.get(pointer, resolve(result.data, pointer))
        if same_value(wanted, actual):
            continue
        got = _("nothing") if actual is None else shown(actual)
        failure = next((e for e in result.outcome.errors if e["pointer"] == pointer and e.get("rule")), None)
        if failure is not None:
            got = f"{got} ({failure['message']})"
        mismatches.append(
            _(
                "%(pointer)s: expected %(expected)s, got %(actual)s",
                pointer=pointer,
                expected=shown(wanted),
                actual=got,
            )
        )
    return mismatches


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return None


def same_value(expected: Any, actual: Any) -> bool:
    """Equal as JSON values, numbers compared exactly as decimals (12.5 == 12.50)."""
    number = _number(expected)
    if number is not None:
        other = _number(actual)
        return other is not None and number == other
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same_value(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same_value(value, actual[key]) for key, value in expected.items())
        )
    return expected == actual and type(expected) is type(actual)


def shown(value: Any) -> str:
    """A value as JSON text for a message (decimals digit for digit)."""
    return exactjson.dumps(value)
