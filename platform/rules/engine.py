"""The JSONLogic engine: datalogic-py (Rust) with Formflow's operators, an operation budget
and a depth bound.

Rules reach the engine as JSON text, never as Python objects: datalogic-py 5.9 crashes the
process (segfault) compiling a Python dict nested ~10,000 deep, while the same rule as text
is refused cleanly. We also measure the depth ourselves, without recursion, first.

Data (a rule's context) reaches it as JSON text written in one pass (`rules.context`)."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Any

import datalogic_py
import orjson
from flask_babel import gettext as _

from formflow.jsonerrors import describe
from formflow.rules import context
from formflow.rules import jsontext as exactjson
from formflow.rules.context import TABLES_KEY
from formflow.rules.errors import RuleError
from formflow.rules.operators import OPERATORS, OperatorFailure, bound, callback

#: Operations one evaluation may charge: far above any real form rule (a 20-row compute is
#: a few hundred), low enough that a runaway rule stops in milliseconds.
OPS_BUDGET = 200_000
#: Nesting of a rule; datalogic's own compile limit is 256.
MAX_RULE_DEPTH = 128

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
            raise RuleError(_("The rule is not valid JSON: %(error)s", error=describe(error))) from None
        except RecursionError:
            raise RuleError(_("The rule is nested more than %(n)d levels deep.", n=MAX_RULE_DEPTH)) from None
    if depth(rule, MAX_RULE_DEPTH) > MAX_RULE_DEPTH:
        raise RuleError(_("The rule is nested more than %(n)d levels deep.", n=MAX_RULE_DEPTH))
    return exactjson.dumps(with_lookups_inlined(rule), separators=(",", ":"))


def with_lookups_inlined(rule: Any) -> Any:
    """`{"lookup": [table, key, column]}` as a path into the context's indexed tables,
    `{"val": ["$tables", table, key, column]}`, evaluated inside the engine: a Python
    callback per lookup costs ~3 µs, the path ~0.05 µs. A missing row gives null; a missing
    table or column is refused by `check` when the spec is saved."""
    if isinstance(rule, list):
        return [with_lookups_inlined(item) for item in rule]
    if not isinstance(rule, dict):
        return rule
    if len(rule) == 1 and "lookup" in rule and isinstance(rule["lookup"], list) and len(rule["lookup"]) == 3:
        return {"val": [TABLES_KEY, *(with_lookups_inlined(argument) for argument in rule["lookup"])]}
    return {key: with_lookups_inlined(value) for key, value in rule.items()}


#: A context parsed once and evaluated by many rules: datalogic-py's own DataHandle.
Prepared = datalogic_py.DataHandle


def prepare(data: Any, tables: dict[str, dict] | None = None) -> Prepared:
    """The context as a DataHandle, with the parameter tables its `lookup`s read: written
    as JSON text in one pass and parsed by the engine (`rules.context`)."""
    if type(data) is Prepared:
        return data
    written = context.text(context.with_tables(data, tables))
    try:
        return datalogic_py.DataHandle(written)
    except datalogic_py.DataLogicError:  # the only text orjson writes that it refuses: depth
        raise context.too_deep() from None


#: a plain dict's JSON text, the quick way (`rules.context.text` writes every value)
_write = orjson.dumps


class CompiledRule:
    """A compiled rule: `.evaluate(data)`, `.facts()`. Cached and shared (thread-safe)."""

    __slots__ = ("_evaluate", "_evaluate_data", "compiled", "text")

    def __init__(self, text: str, compiled: Any):
        self.text = text
        self.compiled = compiled  # datalogic_py.Rule
        self._evaluate = compiled.evaluate
        self._evaluate_data = compiled.evaluate_data

    def evaluate(  # positional-or-keyword, not keyword-only: CPython calls it on its fast path
        self, data: Any, tables: dict | None = None, today: date | None = None, rule_id: str | None = None
    ) -> Any:
        """The result for `data` (a dict or a `prepare`d context), JSON values as the
        reference json-logic-js gives them (numbers are floats or ints).

        `tables` (with a plain dict `data`) for `lookup`; a caller running many rules
        prepares the context once with them: `rules.prepare(context, tables)`. `today`
        fixes the date operators' clock (or bind it once with `rules.bound(today=…)`)."""
        try:
            if today is None:  # the hot paths: nothing to bind
                if type(data) is Prepared:
                    return self._evaluate_data(data)
                if tables is None and type(data) is dict:
                    try:
                        written = _write(data)  # no default: a Decimal, a date… take `prepare`
                    except orjson.JSONEncodeError:
                        pass
                    else:
                        return self._evaluate_plain(data, written)
                return self._evaluate_data(prepare(data, tables))
            handle = prepare(data, tables)
            with bound(today=today):
                return self._evaluate_data(handle)
        except OperatorFailure as failure:
            raise RuleError(str(failure), rule_id=rule_id) from None
        except datalogic_py.DataLogicError as error:
            raise RuleError(explain(error), rule_id=rule_id) from None

    def _evaluate_plain(self, data: dict, written: bytes) -> Any:
        """`data`, which orjson wrote as it is (so at most 254 deep: datalogic-py's own copy of
        a dict crashes the process near 20,000), for the engine: as that JSON text when it is
        ASCII, else copied by the engine from the dict (a non-ASCII text would be decoded
        here and encoded again there, which costs more than the copy)."""
        if not written.isascii():
            try:
                return self._evaluate(data)
            except datalogic_py.ParseError:
                pass  # a value orjson writes natively and the engine does not take (a UUID…)
        try:
            return self._evaluate(written.decode())  # a str is JSON text to the engine
        except datalogic_py.ParseError:  # the one text of orjson's it refuses: too deep
            raise context.too_deep() from None

    def facts(self) -> dict:
        return self.compiled.facts()


@lru_cache(maxsize=4096)
def _compile_text(text: str) -> CompiledRule:
    try:
        return CompiledRule(text, ENGINE.compile(text))
    except datalogic_py.DataLogicError as error:
        raise RuleError(explain(error)) from None


#: A rule as written (its JSON text by orjson, or the text given) -> its compiled form: a
#: cached rule is found in about a microsecond, where `rule_text` (the depth check, lookups
#: inlined, exact JSON) costs tens
_BY_SOURCE: dict[str | bytes, CompiledRule] = {}
_BY_SOURCE_SIZE = 4096


def compile(rule: Any) -> CompiledRule:
    """Compile once; the same rule comes back from the cache."""
    try:
        source = rule if isinstance(rule, str) else orjson.dumps(rule, default=context.written_default)
    except orjson.JSONEncodeError:  # too deep, or a value orjson does not write: the long way
        return _compile_text(rule_text(rule))
    found = _BY_SOURCE.get(source)
    if found is None:
        found = _compile_text(rule_text(rule))
        if len(_BY_SOURCE) >= _BY_SOURCE_SIZE:
            _BY_SOURCE.clear()
        _BY_SOURCE[source] = found
    return found


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
