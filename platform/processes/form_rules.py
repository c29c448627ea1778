"""Rule kinds on a form (docs/rules-spec.md): `visible`, `required`, `enable`, `compute`,
`validate`, evaluated over a form's data in one context, per row inside repeating groups.

The server always re-evaluates everything (on every save and submit); the browser runs
the same rules only to preview."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow.forms.pointers import assign, join, resolve, split
from formflow.processes.field_schemas import field_schema, known_vars
from formflow.processes.rule_inputs import rule_context, spec_tables, version_tables
from formflow.processes.rule_messages import PLACEHOLDER, is_money, param_text, placeholders, validate_message
from formflow.rules.context import fragment
from formflow.rules.engine import compile, prepare
from formflow.rules.errors import RuleError
from formflow.rules.operators import OperatorFailure, to_money

#: the context and tables (rule_inputs), field schemas (field_schemas) and validate messages
#: (rule_messages) have modules of their own; they stay importable from here
__all__ = [
    "KINDS",
    "KIND_LABELS",
    "PLACEHOLDER",
    "RuleOutcome",
    "apply_rules",
    "compute_order",
    "convert",
    "evaluate_rules",
    "expand",
    "field_schema",
    "is_money",
    "known_vars",
    "param_text",
    "placeholders",
    "reads",
    "rule_context",
    "spec_tables",
    "truthy",
    "validate_message",
    "version_tables",
]

KINDS = ("visible", "compute", "required", "enable", "validate")
#: what people read for a rule's kind
KIND_LABELS = {
    "visible": _l("Shown when"),
    "compute": _l("Computed value"),
    "required": _l("Required when"),
    "enable": _l("Editable when"),
    "validate": _l("Validation"),
}


@dataclass
class RuleOutcome:
    hidden: set[str] = field(default_factory=set)
    required: set[str] = field(default_factory=set)
    disabled: set[str] = field(default_factory=set)
    computed: dict[str, Any] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)

    def is_hidden(self, pointer: str) -> bool:
        """Hidden itself, or inside a hidden group."""
        return any(pointer == hidden or pointer.startswith(hidden + "/") for hidden in self.hidden)


def expand(template: str, data: Any) -> Iterator[tuple[str, Any, int | None]]:
    """Concrete pointers for a field pointer with `*` rows: (pointer, row, index)."""
    tokens = split(template)
    if "*" not in tokens:
        yield template, None, None
        return
    star = tokens.index("*")
    prefix = join("", *tokens[:star])
    rows = resolve(data, prefix)
    if not isinstance(rows, list):
        return
    rest = tokens[star + 1 :]
    for index, row in enumerate(rows):
        concrete = join(prefix, index, *rest)
        if "*" in rest:
            inner_template = join(join(prefix, index), *rest)
            yield from expand(inner_template, data)
        else:
            yield concrete, row, index


def truthy(value: Any) -> bool:
    """JSONLogic truthiness (as json-logic-js): [] is false, "0" and {} are true."""
    if isinstance(value, list):
        return len(value) > 0
    return bool(value) if not isinstance(value, dict) else True


class _Run:
    """One evaluation of a spec's rules over one set of data."""

    def __init__(self, spec: dict, data: dict, context: dict, today: date | None, tables: dict | None):
        self.spec = spec
        self.rules = [r for r in spec.get("rules") or [] if isinstance(r, dict) and r.get("kind") in KINDS]
        self.schema = (spec.get("form") or {}).get("schema") or {}
        self.data = data
        self.context = context
        self.today = today
        self.tables = tables if tables is not None else spec_tables(spec)
        self.outcome = RuleOutcome()
        self._prepared = None
        #: the context but its data, and the data, each written once (rules.context.fragment)
        self._shared = None
        self._data = None
        #: the context of the rule `each` yielded last (a row's own, inside a group)
        self.rule_context: Any = None

    def prepared(self, row: Any = None, index: int | None = None):
        """The context prepared for the engine: the form's, or a group row's (with `row` and
        `index`), each sharing the pieces written once."""
        if row is None and self._prepared is not None:
            return self._prepared
        if self._shared is None:
            self._shared = {key: fragment(value) for key, value in self.context.items() if key != "data"}
        if self._data is None:
            self._data = fragment(self.data)
        pieces = {**self._shared, "data": self._data}
        if row is None:
            self._prepared = prepare(pieces, self.tables)
            return self._prepared
        return prepare({**pieces, "row": row, "index": index}, self.tables)

    def changed(self) -> None:
        self._prepared = self._data = None

    def each(self, kind: str) -> Iterator[tuple[dict, str, Any]]:
        """(rule, concrete pointer, result) for every rule of `kind`, every row it applies to."""
        for rule in self.rules_of(kind):
            expression = rule.get("value") if kind == "compute" else rule.get("when")
            for pointer, row, index in expand(rule.get("field", ""), self.data):
                if kind != "visible" and self.outcome.is_hidden(pointer):
                    continue
                context = self.prepared(row, index)
                self.rule_context = context
                try:
                    result = compile(expression).evaluate(context, today=self.today, rule_id=rule.get("id"))
                except RuleError as failure:
                    message = failure.errors[0]["message"]
                    self.outcome.errors.append(
                        {"pointer": pointer, "message": message, "rule": rule.get("id")}
                    )
                    continue
                self.outcome.results.append(
                    {"id": rule.get("id"), "kind": kind, "pointer": pointer, "value": result}
                )
                yield rule, pointer, result

    def rules_of(self, kind: str) -> list[dict]:
        chosen = [rule for rule in self.rules if rule.get("kind") == kind]
        return compute_order(chosen) if kind == "compute" else chosen


def compute_order(rules: list[dict]) -> list[dict]:
    """Compute rules so that each runs after the computes whose fields it reads."""
    by_field = [(_data_path(rule.get("field", "")), rule) for rule in rules]
    ordered: list[dict] = []
    done: set[int] = set()
    visiting: set[int] = set()

    def visit(rule: dict) -> None:
        if id(rule) in done or id(rule) in visiting:
            return  # a cycle is refused at check time; here it just stops
        visiting.add(id(rule))
        for path in reads(rule.get("value")):
            for target, other in by_field:
                if other is not rule and path[: len(target)] == target:
                    visit(other)
        visiting.discard(id(rule))
        done.add(id(rule))
        ordered.append(rule)

    for rule in rules:
        visit(rule)
    return ordered


def reads(expression: Any) -> list[list[str]]:
    """The data paths an expression reads (`data.fee` -> ["fee"]; `row.x` is not data)."""
    try:
        facts = compile(expression).facts()
    except RuleError:
        return []
    return [path[1:] for path in facts.get("reads", []) if path and path[0] == "data"]


def _data_path(pointer: str) -> list[str]:
    return [token for token in split(pointer) if token != "*" and not token.isdigit()] if pointer else []


def evaluate_rules(spec, data, context, *, today=None, tables=None, previous=None) -> RuleOutcome:
    """Every rule's outcome for `data` (not changed; see apply_rules)."""
    return apply_rules(spec, data, context, today=today, tables=tables, previous=previous)[1]


def apply_rules(
    spec: dict,
    data: dict,
    context: dict,
    *,
    today: date | None = None,
    tables: dict | None = None,
    previous: dict | None = None,
    check_required: bool = True,
    check_validate: bool = True,
) -> tuple[dict, RuleOutcome]:
    """(data with computed values stored and hidden values dropped, outcome).

    Order: computes (in dependency order), then visibility (a hidden field's value is
    dropped), then enable (a read-only field keeps its `previous` value), then required-if
    and validate. Drafts pass check_required/check_validate=False."""
    data = copy.deepcopy(data) if isinstance(data, dict) else {}
    run = _Run(spec, data, context, today, tables)
    for rule, pointer, result in run.each("compute"):
        _store(run, rule, pointer, result)
        run.changed()
    for _rule, pointer, result in run.each("visible"):
        if not truthy(result):
            run.outcome.hidden.add(pointer)
    for pointer in sorted(run.outcome.hidden, key=len, reverse=True):
        _drop(data, pointer)
    run.changed()
    for _rule, pointer, result in run.each("enable"):
        if not truthy(result):
            run.outcome.disabled.add(pointer)
            kept = resolve(previous, pointer, _ABSENT) if previous is not None else _ABSENT
            if kept is _ABSENT:
                _drop(data, pointer)
            else:
                assign(data, pointer, kept)
    if any(r.get("kind") == "enable" for r in run.rules):
        run.changed()
    for rule, pointer, result in run.each("required"):
        if truthy(result):
            run.outcome.required.add(pointer)
            if check_required and _empty(resolve(data, pointer, None)):
                run.outcome.errors.append(
                    {"pointer": pointer, "message": _("This field is required."), "rule": rule.get("id")}
                )
    if check_validate:
        for rule, pointer, result in run.each("validate"):
            if not truthy(result):
                message = validate_message(rule, run.rule_context, spec=spec, tables=run.tables, today=today)
                run.outcome.errors.append({"pointer": pointer, "message": message, "rule": rule.get("id")})
    return data, run.outcome


_ABSENT = object()


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _store(run: _Run, rule: dict, pointer: str, result: Any) -> None:
    """A computed value into the data, converted at the edge to the field's type."""
    target = field_schema(run.schema, pointer)
    try:
        value = convert(result, target)
    except (OperatorFailure, ValueError, InvalidOperation) as failure:
        message = _("Rule “%(rule)s”: %(problem)s", rule=rule.get("id"), problem=str(failure))
        run.outcome.errors.append({"pointer": pointer, "message": message, "rule": rule.get("id")})
        return
    run.outcome.computed[pointer] = value
    if value is None:
        _drop(run.data, pointer)
    else:
        assign(run.data, pointer, value)


def convert(result: Any, schema: dict) -> Any:
    """A rule's result as the field's type: money rounded half-up to 0.01, integers whole,
    other numbers exact decimals (never a float)."""
    if result is None:
        return None
    kinds = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
    if isinstance(result, dict) and "object" in kinds:
        fields = schema.get("properties") or {}
        return {key: convert(value, fields.get(key) or {}) for key, value in result.items()}
    if isinstance(result, list) and "array" in kinds:
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [convert(value, items) for value in result]
    if "integer" in kinds:
        number = Decimal(repr(result)) if isinstance(result, float) else Decimal(str(result))
        if number != number.to_integral_value():
            raise ValueError(_("the result %(value)s is not a whole number", value=result))
        return int(number)
    if "number" in kinds or (isinstance(result, int | float) and not isinstance(result, bool)):
        if "multipleOf" in schema and Decimal(str(schema["multipleOf"])) == Decimal("0.01"):
            return to_money(result)
        if isinstance(result, bool):
            raise ValueError(_("the result is not a number"))
        return Decimal(repr(result)) if isinstance(result, float) else result
    if "string" in kinds and not isinstance(result, str):
        return str(result)
    return result


def _drop(data: dict, pointer: str) -> None:
    tokens = split(pointer)
    holder = resolve(data, join("", *tokens[:-1])) if tokens else None
    if isinstance(holder, dict):
        holder.pop(tokens[-1], None)
