"""The JSONLogic engine: datalogic-py (Rust) with Formflow's operators, an operation budget
and a depth bound.

Rules reach the engine as JSON text, never as Python objects: datalogic-py 5.9 crashes the
process (segfault) compiling a Python dict nested ~10,000 deep, while the same rule as text
is refused cleanly. We also measure the depth ourselves, without recursion, first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import datalogic_py
from flask_babel import gettext as _

from formflow import exactjson
from formflow.rules.errors import RuleError
from formflow.rules.operators import OPERATORS, OperatorFailure, bound, callback

#: Operations one evaluation may charge: far above any real form rule (a 20-row compute is
#: a few hundred), low enough that a runaway rule stops in milliseconds.
OPS_BUDGET = 200_000
#: Nesting of a rule; datalogic's own compile limit is 256.
MAX_RULE_DEPTH = 128
#: Nesting of the data a rule reads.
MAX_DATA_DEPTH = 64

ENGINE = datalogic_py.Engine(
    custom_operators={name: callback(entry) for name, entry in OPERATORS.items()},
    config={"ops_budget": OPS_BUDGET},
)


def depth(value: Any, limit: int) -> int:
    """How deeply `value` nests (stops counting past `limit`); iterative, so a 10,000-deep
    document cannot overflow Python's stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def rule_text(rule: Any) -> str:
    """The rule as JSON text, after the depth check."""
    if isinstance(rule, str):
        try:
            rule = exactjson.loads(rule) if rule.strip()[:1] in "{[" else rule
        except ValueError as error:
            raise RuleError(_("The rule is not valid JSON: %(error)s", error=error)) from None
        except RecursionError:
            raise RuleError(_("The rule is nested more than %(n)d levels deep.", n=MAX_RULE_DEPTH)) from None
    if depth(rule, MAX_RULE_DEPTH) > MAX_RULE_DEPTH:
        raise RuleError(_("The rule is nested more than %(n)d levels deep.", n=MAX_RULE_DEPTH))
    return exactjson.dumps(rule, separators=(",", ":"))


class Prepared:
    """A context parsed once (datalogic's DataHandle) and evaluated by many rules."""

    __slots__ = ("handle",)

    def __init__(self, data: Any):
        if depth(data, MAX_DATA_DEPTH) > MAX_DATA_DEPTH:
            raise RuleError(_("The data is nested more than %(n)d levels deep.", n=MAX_DATA_DEPTH))
        self.handle = datalogic_py.DataHandle(exactjson.dumps(data, separators=(",", ":")))


def prepare(data: Any) -> Prepared:
    return data if isinstance(data, Prepared) else Prepared(data)


@dataclass(frozen=True)
class CompiledRule:
    text: str
    compiled: Any  # datalogic_py.Rule

    def evaluate(
        self, data: Any, *, tables: dict | None = None, today: date | None = None, rule_id: str | None = None
    ) -> Any:
        """The result for `data` (a dict or a `prepare`d context), JSON values as the
        reference json-logic-js gives them (numbers are floats or ints)."""
        prepared = prepare(data)
        with bound(tables, today):
            try:
                return self.compiled.evaluate_data(prepared.handle)
            except OperatorFailure as failure:
                raise RuleError(str(failure), rule_id=rule_id) from None
            except datalogic_py.DataLogicError as error:
                raise RuleError(explain(error), rule_id=rule_id) from None

    def facts(self) -> dict:
        return self.compiled.facts()


@lru_cache(maxsize=4096)
def _compile_text(text: str) -> CompiledRule:
    try:
        return CompiledRule(text, ENGINE.compile(text))
    except datalogic_py.DataLogicError as error:
        raise RuleError(explain(error)) from None


def compile(rule: Any) -> CompiledRule:
    """Compile once; the same rule text comes back from the cache."""
    return _compile_text(rule_text(rule))


def evaluate(rule: Any, data: Any, **options: Any) -> Any:
    return compile(rule).evaluate(data, **options)


def explain(error: datalogic_py.DataLogicError) -> str:
    """datalogic's error as a sentence for the person who wrote the rule."""
    kind = getattr(error, "error_type", "")
    operator = getattr(error, "operator", None)
    where = _(" (in %(operator)s)", operator=operator) if operator else ""
    if kind == "BudgetExceeded":
        return _("The rule does too much work (more than %(n)d steps).", n=OPS_BUDGET) + where
    if kind == "Thrown" and "NaN" in str(error):
        return _("The rule did not compute a number (a division by zero or a missing value?).") + where
    if "OperatorFailure: " in str(error):  # one of our operators refused its arguments
        return str(error).split("OperatorFailure: ", 1)[1].split(" (in operator:")[0] + where
    if kind == "ParseError":
        return _("The rule cannot be read: %(detail)s", detail=str(error))
    return _("The rule failed: %(detail)s", detail=str(error))


def plain(value: Any) -> Any:
    """A rule result as plain JSON-compatible Python (used for comparisons in tests)."""
    return json.loads(exactjson.dumps(value))
