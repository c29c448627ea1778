"""The no-code condition builder's core (issue 5, point 9): rows of field · operator · value,
combined with all/any, become JSONLogic (built with jsonlogic-py); simple existing rules
come back as rows (`rows_from_rule`), anything else opens in the JSON editor.

A row is a dict: `{"field": "data.amount", "op": "le", "value": 5000}`; the lookup
operators carry `table`, `column` and `key` (the var path the row is found by, default
`customer.tier`) instead of a value. `field` is the path the rule reads: `data.…` for a form
field, `row.…` for a field of the same row inside a repeating group, `customer.tier` …

Rows use only JSONLogic on which the browser (json-logic-js) and the server (datalogic)
agree (tests/rules/agreement_cases.json): "is empty" is `{"in": [var, [null, ""]]}` (0 and
false are answers, not empty) or `{"!": var}` for lists — never a loose `== null` or
`missing`, which the two engines answer differently.

What a builder offers for one spec (fields, values, tables) and saving a rule into a process
live with processes (`formflow.processes.rule_builder`)."""

from __future__ import annotations

import operator as python_operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from jsonlogic import Expression, Literal, Operand, Operation, Variable

from formflow.errors import Invalid

COMBINATORS = {"all": "and", "any": "or"}
DEFAULT_LOOKUP_KEY = "customer.tier"
#: What a rule may read besides the form (form_rules.rule_context), offered as condition fields.
CONTEXT_FIELDS = (
    ("customer.tier", _l("Customer tier")),
    ("customer.status", _l("Customer status")),
    ("case.state", _l("Case state")),
)


@dataclass(frozen=True)
class RowOperator:
    code: str
    label: Any  # lazy text
    #: "value" (one), "values" (a list), "none", or "lookup" (a table cell as the bound)
    operand: str
    build: Callable[[Operand, Any], Expression]


_AND = Operation("and", None)
_OR = Operation("or", None)
_NOT = Operation("!", 1)
_TRUTHY = Operation("!!", 1)
_IN = Operation("in", 2)
_LOOKUP = Operation("lookup", 3)
EMPTY_VALUES = [None, ""]


def _compare(function: Callable) -> Callable[[Operand, Any], Expression]:
    return lambda variable, value: function(variable, value)  # jsonlogic-py's operator overloads


def _lookup(function: Callable) -> Callable[[Operand, Any], Expression]:
    def build(variable: Operand, bound: Mapping) -> Expression:
        cell = Expression(_LOOKUP, Literal(bound["table"]), Variable(bound["key"]), Literal(bound["column"]))
        return function(variable, cell)

    return build


OPERATORS: dict[str, RowOperator] = {
    op.code: op
    for op in (
        RowOperator("eq", _l("equals"), "value", _compare(python_operator.eq)),
        RowOperator("ne", _l("does not equal"), "value", _compare(python_operator.ne)),
        RowOperator("lt", "<", "value", _compare(python_operator.lt)),
        RowOperator("le", "≤", "value", _compare(python_operator.le)),
        RowOperator("gt", ">", "value", _compare(python_operator.gt)),
        RowOperator("ge", "≥", "value", _compare(python_operator.ge)),
        RowOperator("empty", _l("is empty"), "none", lambda variable, _value: variable.isin(EMPTY_VALUES)),
        RowOperator(
            "not_empty",
            _l("is not empty"),
            "none",
            lambda variable, _value: Expression(_NOT, variable.isin(EMPTY_VALUES)),
        ),
        RowOperator("in", _l("is one of"), "values", lambda variable, values: variable.isin(values)),
        RowOperator("contains", _l("contains"), "value", lambda variable, value: variable.contains(value)),
        RowOperator("le_lookup", _l("≤ table value"), "lookup", _lookup(python_operator.le)),
        RowOperator("ge_lookup", _l("≥ table value"), "lookup", _lookup(python_operator.ge)),
    )
}
_COMPARISONS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_LOOKUP_COMPARISONS = {"<=": "le_lookup", ">=": "ge_lookup"}


class Conditions(NamedTuple):
    """A rule's condition as builder rows: `rows` combined with `combinator` ("all"/"any")."""

    rows: list[dict]
    combinator: str = "all"


class BuilderError(Invalid):
    """Rows that cannot become a rule; pointers name the row (`/rows/1/value`)."""


# --- rows -> JSONLogic ------------------------------------------------------------------------


def rule_from_rows(
    rows: Iterable[Mapping], combinator: str = "all", *, list_fields: Iterable[str] = ()
) -> dict:
    """JSONLogic for `rows` joined by all/any (one row: just its condition). `list_fields`:
    the paths whose values are lists (multi-choice), where "is empty" means no item."""
    rows = list(rows)
    lists = set(list_fields)
    if combinator not in COMBINATORS:
        raise BuilderError([{"pointer": "/combinator", "message": _("Choose all or any.")}])
    if not rows:
        raise BuilderError([{"pointer": "/rows", "message": _("Add at least one condition.")}])
    expressions = [_expression(row, index, lists) for index, row in enumerate(rows)]
    if len(expressions) == 1:
        return expressions[0]._prepare()
    return Expression(_AND if combinator == "all" else _OR, *expressions)._prepare()


def _expression(row: Mapping, index: int, lists: set[str]) -> Expression:
    where = f"/rows/{index}"
    path = row.get("field")
    if not isinstance(path, str) or not _PATH.match(path):
        raise BuilderError([{"pointer": where + "/field", "message": _("Choose a field.")}])
    entry = OPERATORS.get(row.get("op"))
    if entry is None:
        raise BuilderError([{"pointer": where + "/op", "message": _("Choose a comparison.")}])
    variable = Variable(path)
    if entry.operand == "none":
        if path in lists:
            return Expression(_NOT if entry.code == "empty" else _TRUTHY, variable)
        return entry.build(variable, None)
    if entry.operand == "lookup":
        missing = [name for name in ("table", "column", "key") if not row.get(name)]
        if missing:
            message = _("Choose the table value to compare with.")
            raise BuilderError([{"pointer": f"{where}/{missing[0]}", "message": message}])
        return entry.build(variable, row)
    value = row.get("value")
    if entry.operand == "values":
        if not isinstance(value, list) or not value or not all(map(_is_scalar, value)):
            raise BuilderError([{"pointer": where + "/value", "message": _("Enter one or more values.")}])
    elif not _is_scalar(value):
        raise BuilderError([{"pointer": where + "/value", "message": _("Enter a value.")}])
    return entry.build(variable, value)


_PATH = re.compile(r"^[A-Za-z_][\w-]*(\.[\w-]+)*$")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


# --- JSONLogic -> rows ------------------------------------------------------------------------


def rows_from_rule(rule: Any) -> Conditions | None:
    """The rows a builder shows for `rule`, or None when it is more than rows can say (then
    the rule is edited as JSON). rule_from_rows(*rows_from_rule(r)) gives r back for rules
    the builder made (one row: the combinator is "all")."""
    if isinstance(rule, dict) and len(rule) == 1:
        name, arguments = next(iter(rule.items()))
        if name in ("and", "or"):
            if not isinstance(arguments, list) or not arguments:
                return None
            rows = [_row(part) for part in arguments]
            if any(row is None for row in rows):
                return None
            return Conditions(rows, "all" if name == "and" else "any")
    row = _row(rule)
    return Conditions([row]) if row is not None else None


def _var(expression: Any) -> str | None:
    """The path of a plain `{"var": "a.b"}` (no default), else None."""
    if not (isinstance(expression, dict) and len(expression) == 1 and "var" in expression):
        return None
    name = expression["var"]
    if isinstance(name, list):
        name = name[0] if len(name) == 1 else None
    return name if isinstance(name, str) and _PATH.match(name) else None


def _arguments(expression: Any, name: str) -> list | None:
    if not (isinstance(expression, dict) and len(expression) == 1 and name in expression):
        return None
    arguments = expression[name]
    return arguments if isinstance(arguments, list) else [arguments]


def _row(expression: Any) -> dict | None:
    if not isinstance(expression, dict) or len(expression) != 1:
        return None
    name = next(iter(expression))
    arguments = _arguments(expression, name)
    if name in ("!", "!!") and len(arguments) == 1:
        inner = arguments[0]
        if _var(inner):
            return {"field": _var(inner), "op": "empty" if name == "!" else "not_empty"}
        emptiness = _row(inner)
        if name == "!" and emptiness and emptiness["op"] == "empty" and "in" in inner:
            return {"field": emptiness["field"], "op": "not_empty"}
        return None
    if name == "in" and len(arguments) == 2:
        first, second = arguments
        if _var(first) and isinstance(second, list):
            if second == EMPTY_VALUES:
                return {"field": _var(first), "op": "empty"}
            if second and all(map(_is_scalar, second)):
                return {"field": _var(first), "op": "in", "value": list(second)}
            return None
        if _is_scalar(first) and _var(second):
            return {"field": _var(second), "op": "contains", "value": first}
        return None
    if name in _COMPARISONS and len(arguments) == 2 and _var(arguments[0]):
        path, bound = _var(arguments[0]), arguments[1]
        if _is_scalar(bound):
            return {"field": path, "op": _COMPARISONS[name], "value": bound}
        lookup = _arguments(bound, "lookup")
        if name in _LOOKUP_COMPARISONS and lookup and len(lookup) == 3:
            table, key, column = lookup
            if isinstance(table, str) and isinstance(column, str) and _var(key):
                return {
                    "field": path,
                    "op": _LOOKUP_COMPARISONS[name],
                    "table": table,
                    "column": column,
                    "key": _var(key),
                }
    return None
