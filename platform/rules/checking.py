"""`check(rule, known_vars=None, tables=None)`: every problem visible before a rule runs,
each with a JSON Pointer into the rule (e.g. `/and/1/var`): malformed or too deep rules,
unknown operators (datalogic's own check), wrong arity or literal argument types of our
operators, `var`s that name nothing known (with a "did you mean"), and `lookup`s of a
table or column that does not exist."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from typing import Any

import datalogic_py
from flask_babel import gettext as _

from formflow.forms.pointers import join
from formflow.rules.engine import ENGINE, MAX_RULE_DEPTH, depth, rule_text
from formflow.rules.errors import RuleError
from formflow.rules.operators import OPERATORS

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_DURATION = re.compile(r"^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?$")


def check(
    rule: Any, known_vars: Iterable[str] | None = None, tables: dict[str, Iterable[str]] | None = None
) -> list[dict]:
    """Problems in `rule`; [] when it is fine. `known_vars`: the dotted paths a rule may read
    (a path also allows what lies beneath it); `tables`: table name -> its columns."""
    if depth(rule, MAX_RULE_DEPTH) > MAX_RULE_DEPTH:
        return [
            {"pointer": "", "message": _("The rule is nested more than %(n)d levels deep.", n=MAX_RULE_DEPTH)}
        ]
    try:
        text = rule_text(rule)
    except RuleError as error:
        return error.errors
    problems = [
        {"pointer": diagnostic["pointer"], "message": diagnostic["message"]}
        for diagnostic in _engine_check(text)
        if diagnostic["severity"] == "error"
    ]
    known = sorted(set(known_vars)) if known_vars is not None else None
    for pointer, name, arguments in operations(rule):
        if name in OPERATORS:
            problems.extend(_check_call(OPERATORS[name], pointer, arguments, tables))
        elif name == "var" and known is not None:
            problems.extend(_check_var(pointer, arguments, known))
    return problems


def _engine_check(text: str) -> list[dict]:
    try:
        return ENGINE.check(text)
    except datalogic_py.DataLogicError as error:
        return [{"pointer": "", "message": str(error), "severity": "error"}]


def operations(rule: Any) -> Iterator[tuple[str, str, list]]:
    """Every operator application in `rule`: (pointer to the operator, name, arguments)."""
    stack = [(rule, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            if len(node) == 1:
                name, raw = next(iter(node.items()))
                arguments = raw if isinstance(raw, list) else [raw]
                yield pointer, name, arguments
            for key, value in node.items():
                stack.append((value, join(pointer, key)))
        elif isinstance(node, list):
            stack.extend((value, join(pointer, index)) for index, value in enumerate(node))


def _check_call(entry, pointer: str, arguments: list, tables) -> list[dict]:
    problems = []
    if not entry.min_args <= len(arguments) <= entry.max_args:
        expected = (
            str(entry.min_args) if entry.min_args == entry.max_args else f"{entry.min_args}–{entry.max_args}"
        )
        problems.append(
            {
                "pointer": join(pointer, entry.name),
                "message": _(
                    "%(op)s takes %(expected)s arguments, not %(given)d.",
                    op=entry.name,
                    expected=expected,
                    given=len(arguments),
                ),
            }
        )
        return problems
    for index, (argument, kind) in enumerate(zip(arguments, entry.arg_types, strict=False)):
        if isinstance(argument, dict | list):
            continue  # computed at run time
        message = _literal_problem(argument, kind)
        if message:
            problems.append({"pointer": join(pointer, entry.name, index), "message": message})
    if entry.name == "lookup" and tables is not None and not problems:
        problems.extend(_check_lookup(pointer, arguments, tables))
    return problems


def _literal_problem(value: Any, kind: str) -> str | None:
    if kind == "string" and not isinstance(value, str):
        return _("Expected a text here.")
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return _("Expected a number here.")
    if kind == "date" and not (isinstance(value, str) and _DATE.match(value)):
        return _("Expected a date (YYYY-MM-DD) here.")
    if kind == "duration" and not (isinstance(value, str) and _DURATION.match(value) and value != "P"):
        return _("Expected an ISO 8601 duration (e.g. P30D, P1M) here.")
    return None


def _check_lookup(pointer: str, arguments: list, tables: dict[str, Iterable[str]]) -> list[dict]:
    table, _key, column = arguments
    if not isinstance(table, str):
        return []
    if table not in tables:
        return [{"pointer": join(pointer, "lookup", 0), "message": _unknown(_("table"), table, tables)}]
    columns = list(tables[table])
    if isinstance(column, str) and column not in columns:
        return [{"pointer": join(pointer, "lookup", 2), "message": _unknown(_("column"), column, columns)}]
    return []


def _check_var(pointer: str, arguments: list, known: list[str]) -> list[dict]:
    name = arguments[0] if arguments else ""
    if not isinstance(name, str | int) or isinstance(name, bool):
        return []
    name = str(name)
    if name == "" or _is_known(name, known):
        return []
    where = (
        join(pointer, "var", 0)
        if isinstance(arguments, list) and len(arguments) > 1
        else join(pointer, "var")
    )
    return [{"pointer": where, "message": _unknown(_("field or context value"), name, known)}]


def _is_known(name: str, known: list[str]) -> bool:
    parts = name.split(".")
    for path in known:
        known_parts = path.split(".")
        # a known path allows itself, what lies beneath it, and its parents
        if parts[: len(known_parts)] == known_parts or known_parts[: len(parts)] == parts:
            return True
        # a row index inside a list: data.items.0.amount matches data.items.amount
        if [p for p in parts if not p.isdigit()] == known_parts:
            return True
    return False


def _unknown(kind: str, name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if close:
        return _(
            "Unknown %(kind)s “%(name)s”; did you mean “%(suggestion)s”?",
            kind=kind,
            name=name,
            suggestion=close[0],
        )
    return _("Unknown %(kind)s “%(name)s”.", kind=kind, name=name)
