"""`check(rule, known_vars=None, tables=None)`: every problem visible before a rule runs,
each with a JSON Pointer into the rule (e.g. `/and/1/var`): malformed or too deep rules,
unknown operators (datalogic's own check), wrong arity or literal argument types of our
operators, `var`s that name nothing known (with a "did you mean"), and `lookup`s of a
table or column that does not exist."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import datalogic_py
from flask_babel import gettext as _

from formflow.rules.engine import ENGINE, MAX_RULE_DEPTH, depth, rule_text
from formflow.rules.errors import RuleError
from formflow.rules.jsontext import pointer_join as join
from formflow.rules.operators import OPERATORS, date_duration

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


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
    for pointer, name, arguments, scope in scoped_operations(rule):
        if name in OPERATORS:
            problems.extend(_check_call(OPERATORS[name], pointer, arguments, tables))
        elif name == "var" and known is not None:
            problems.extend(_check_var(pointer, arguments, known, scope))
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


#: Operators whose second argument runs once per item of the first: there `var` reads the
#: item (`reduce`: `current` and `accumulator`), not the rule's context.
ITERATORS = frozenset({"map", "filter", "all", "some", "none", "reduce"})


@dataclass(frozen=True)
class Scope:
    """What a `var` reads inside an iterator's callback: the items of the dotted path `source`
    (None when the list is computed and its items cannot be known); `reduce` for reduce."""

    source: str | None
    reduce: bool = False


def scoped_operations(rule: Any) -> Iterator[tuple[str, str, list, Scope | None]]:
    """Like `operations`, with the scope each application runs in (None: the rule's context)."""
    stack: list[tuple[Any, str, Scope | None]] = [(rule, "", None)]
    while stack:
        node, pointer, scope = stack.pop()
        if isinstance(node, list):
            stack.extend((value, join(pointer, index), scope) for index, value in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        if len(node) == 1:
            name, raw = next(iter(node.items()))
            arguments = raw if isinstance(raw, list) else [raw]
            yield pointer, name, arguments, scope
            if name in ITERATORS and isinstance(raw, list) and len(raw) >= 2:
                inner = Scope(_source_path(raw[0], scope), reduce=name == "reduce")
                for index, argument in enumerate(raw):
                    stack.append((argument, join(pointer, name, index), inner if index == 1 else scope))
                continue
        for key, value in node.items():
            stack.append((value, join(pointer, key), scope))


def var_paths(rule: Any) -> list[str]:
    """The dotted path every plain `var` of `rule` reads, members of list items included
    (`{"map": [{"var": "data.items"}, {"var": "amount"}]}` reads `data.items` and
    `data.items.amount`; datalogic's facts() stop at the list)."""
    found = []
    for _pointer, name, arguments, scope in scoped_operations(rule):
        if name != "var":
            continue
        path = _in_scope(_var_name({"var": arguments[0] if arguments else ""}) or "", scope)
        if path:
            found.append(path)
    return found


def _var_name(node: Any) -> str | None:
    """The name a plain `{"var": name}` reads, else None."""
    if not (isinstance(node, dict) and len(node) == 1 and "var" in node):
        return None
    name = node["var"]
    if isinstance(name, list):
        name = name[0] if name else ""
    if isinstance(name, bool) or not isinstance(name, str | int):
        return None
    return str(name)


def _source_path(source: Any, scope: Scope | None) -> str | None:
    """The dotted path of the list an iterator walks, when it is a plain `var`."""
    name = _var_name(source)
    return None if name is None else _in_scope(name, scope)


def _in_scope(name: str, scope: Scope | None) -> str | None:
    """`name` as read inside `scope`, as a dotted path of the rule's context (None: unknowable)."""
    if scope is None:
        return name
    if scope.source is None:
        return None
    if scope.reduce:
        head, _dot, rest = name.partition(".")
        if head != "current":
            return None
        name = rest
    return f"{scope.source}.{name}" if name else scope.source


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
    if kind == "duration" and date_duration(value) is None:
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


def _check_var(pointer: str, arguments: list, known: list[str], scope: Scope | None = None) -> list[dict]:
    name = arguments[0] if arguments else ""
    if not isinstance(name, str | int) or isinstance(name, bool):
        return []
    name = str(name)
    if name == "":
        return []
    where = (
        join(pointer, "var", 0)
        if isinstance(arguments, list) and len(arguments) > 1
        else join(pointer, "var")
    )
    if scope is not None:
        return _check_item_var(where, name, known, scope)
    if _is_known(name, known):
        return []
    return [{"pointer": where, "message": _unknown(_("field or context value"), name, known)}]


def _check_item_var(where: str, name: str, known: list[str], scope: Scope) -> list[dict]:
    """A `var` inside an iterator's callback: a member of the item (reduce: `current.…`, or
    `accumulator`)."""
    if scope.reduce and name.partition(".")[0] == "accumulator":
        return []
    if scope.source is None:
        return []  # the items of a computed list cannot be known before the rule runs
    path = _in_scope(name, scope)
    if path is not None and _is_known(path, known):
        return []
    prefix = scope.source + "."
    members = [path[len(prefix) :] for path in known if path.startswith(prefix)]
    if scope.reduce:
        members = ["accumulator", "current", *("current." + member for member in members)]
    return [{"pointer": where, "message": _unknown(_("member of the item"), name, members)}]


def _is_known(name: str, known: list[str]) -> bool:
    """A known path allows itself and its parents, and what lies beneath it when nothing
    beneath it is listed (`account` allows `account.prepaid`; when `data.items.amount` is
    listed, `data.items.amont` is unknown). Row indexes do not count: `data.items.0.amount`
    is `data.items.amount`."""
    parts = [part for part in name.split(".") if not part.isdigit()]
    for path in known:
        known_parts = path.split(".")
        if known_parts[: len(parts)] == parts:
            return True
        if parts[: len(known_parts)] == known_parts and not any(
            other.startswith(path + ".") for other in known
        ):
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
