"""Why a rule gave its result: datalogic-py's own trace (`Engine.evaluate_with_trace`), read
back as the values the rule read and one sentence per step, in the user's language.

Nothing here evaluates a rule by hand: every result shown is the one the engine's trace
recorded. Lookups are evaluated inlined (`{"val": ["$tables", table, key, column]}`, see
`engine.with_lookups_inlined`) and are shown again as lookup(table, key, column)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import datalogic_py
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow.rules import engine
from formflow.rules import jsontext as exactjson
from formflow.rules.context import TABLES_KEY, with_tables
from formflow.rules.context import text as context_text
from formflow.rules.errors import RuleError
from formflow.rules.operators import bound

#: operators shown between their operands: `a > b`
INFIX = {">", ">=", "<", "<=", "==", "===", "!=", "!==", "+", "-", "*", "/", "%", "in"}
#: operators that run a sub-rule over each item of a list
ITERATING = {
    "map": _l("each item mapped"),
    "filter": _l("items kept"),
    "reduce": _l("items combined"),
    "all": _l("all items match"),
    "some": _l("some item matches"),
    "none": _l("no item matches"),
}
#: the longest text of one value in a sentence
SHORT = 60


class _TraceError:
    """The trace's structured error, shaped like a DataLogicError for `engine.explain`."""

    def __init__(self, structured: dict | None, text: str):
        structured = structured or {}
        self.error_type = structured.get("type", "")
        self.operator = structured.get("operator")
        self._text = text

    def __str__(self) -> str:
        return self._text


def explain(rule: Any, context: Any, tables: dict | None = None, today: date | None = None) -> dict:
    """`{"result", "reads", "tree", "error"?}` for `rule` over `context` (a plain dict).

    reads: `{"path": "data.amount", "value": 3000}` and `{"lookup": [table, key, column],
    "value": 2000}`, in the order the rule read them; tree: `{"operator", "text", "result",
    "children"}` per step of the rule."""
    try:
        text = engine.rule_text(rule)
        data_text = context_text(with_tables(context, tables))
    except RuleError as error:
        return {"result": None, "reads": [], "tree": None, "error": error.errors[0]["message"]}
    try:
        if today is None:
            raw = engine.ENGINE.evaluate_with_trace(text, data_text)
        else:
            with bound(today=today):
                raw = engine.ENGINE.evaluate_with_trace(text, data_text)
    except datalogic_py.DataLogicError as error:
        return {"result": None, "reads": [], "tree": None, "error": engine.explain(error)}
    return _Reading(exactjson.loads(text), exactjson.loads(raw), data_text).explanation()


class _Reading:
    """One trace read back into reads and a tree of sentences."""

    def __init__(self, rule: Any, trace: dict, data_text: str):
        self.rule = rule
        self.data_text = data_text
        self.trace = trace
        self.pointers = {int(node): pointer for node, pointer in (trace.get("pointers") or {}).items()}
        self.results: dict[int, Any] = {}
        self.errors: dict[int, str] = {}
        self.iterated: set[int] = set()
        self.order: dict[int, int] = {}
        for step in trace.get("steps") or []:
            node = step.get("node_id")
            self.results[node] = step.get("result")  # inside a loop: the last iteration's
            self.order.setdefault(node, step.get("step_id", 0))
            if step.get("error"):
                self.errors[node] = step["error"]
            if "iteration_index" in step:
                self.iterated.add(node)
        self.by_pointer: dict[str, dict] = {}
        self.reads: list[dict] = []

    def explanation(self) -> dict:
        root = self.trace.get("expression_tree")
        self._index(root)
        tree = self._node(root) if root else None
        found = [r for r in sorted(self.reads, key=lambda r: r.pop("_order")) if r]
        unique: list[dict] = []
        for entry in found:
            if entry not in unique:
                unique.append(entry)
        out = {"result": self.trace.get("result"), "reads": unique, "tree": tree}
        if self.trace.get("error"):
            message = engine.explain(_TraceError(self.trace.get("structured_error"), self.trace["error"]))
            out["error"] = message
            out["result"] = None
        return out

    def _index(self, node: dict | None) -> None:
        if not node:
            return
        pointer = self.pointers.get(node["id"], "")
        self.by_pointer[pointer] = node
        expression = _at(self.rule, pointer)
        looping = (
            isinstance(expression, dict) and len(expression) == 1 and next(iter(expression)) in ITERATING
        )
        if looping and node["id"] not in self.iterated and isinstance(next(iter(expression.values())), list):
            first = self.by_pointer_of(f"{pointer}/{_escape(next(iter(expression)))}/0", node)
            if first is not None and first["id"] not in self.results:
                self._unrecorded(first, f"{pointer}/{_escape(next(iter(expression)))}/0")
        for child in node.get("children") or []:
            self._index(child)

    def by_pointer_of(self, pointer: str, parent: dict) -> dict | None:
        for child in parent.get("children") or []:
            if self.pointers.get(child["id"]) == pointer:
                return child
        return None

    def _unrecorded(self, node: dict, pointer: str) -> None:
        """The trace records no step for a loop's list (`reduce`'s `data.items`): the engine
        evaluates that one `var` on its own."""
        expression = _at(self.rule, pointer)
        if isinstance(expression, dict) and len(expression) == 1 and next(iter(expression)) in ("var", "val"):
            try:
                compiled = engine.ENGINE.compile(exactjson.dumps(expression, separators=(",", ":")))
                self.results[node["id"]] = exactjson.loads(compiled.evaluate_str(self.data_text))
                self.order[node["id"]] = -1
            except (datalogic_py.DataLogicError, AttributeError, ValueError):
                pass

    # --- one node ------------------------------------------------------------------

    def _node(self, node: dict) -> dict:
        pointer = self.pointers.get(node["id"], "")
        expression = _at(self.rule, pointer)
        literal = expression if not isinstance(expression, dict) else None
        result = self.results.get(node["id"], literal)
        if not isinstance(expression, dict) or len(expression) != 1:
            return {"operator": None, "text": value_text(expression), "result": result, "children": []}
        operator, arguments = next(iter(expression.items()))
        base = _arguments_at(pointer, operator, arguments)
        arguments = arguments if isinstance(arguments, list) else [arguments]
        children = [self._node(child) for child in node.get("children") or []]
        shown = [self._operand(base(i), argument) for i, argument in enumerate(arguments)]
        lookup = self._lookup_of(operator, base, arguments)
        shown_operator = "lookup" if lookup is not None else operator
        if lookup is not None:
            text = f"lookup({', '.join(lookup)}) = {value_text(result)}"
            children = []
            self._read(node, {"lookup": [self._raw(base(i), a) for i, a in enumerate(arguments)][1:]})
        elif operator in ("var", "val"):
            path = self._path(operator, base, arguments)
            text = f"{path} = {value_text(result)}"
            if node["id"] not in self.iterated:
                self._read(node, {"path": path})
        else:
            text = self._sentence(operator, base, arguments, shown, result)
        entry = {"operator": shown_operator, "text": text, "result": result, "children": children}
        if node["id"] in self.errors:
            entry["error"] = engine.explain(_TraceError({}, self.errors[node["id"]]))
        return entry

    def _read(self, node: dict, entry: dict) -> None:
        if node["id"] in self.results:
            entry["value"] = self.results[node["id"]]
            entry["_order"] = self.order.get(node["id"], 0)
            self.reads.append(entry)

    def _sentence(self, operator: str, base, arguments: list, shown: list[str], result: Any) -> str:
        arrow = value_text(result)
        if operator in INFIX and len(shown) >= 2:
            return f"{f' {operator} '.join(shown)} → {arrow}"
        if operator == "if" or operator == "?:":
            return self._if_sentence(base, arguments, result)
        if operator in ("and", "or"):
            values = ", ".join(
                value_text(self._raw(base(i), a)) if self._evaluated(base(i), a) else "…"
                for i, a in enumerate(arguments)
            )
            if operator == "and":
                return _("all of (%(values)s) → %(result)s", values=values, result=arrow)
            return _("any of (%(values)s) → %(result)s", values=values, result=arrow)
        if operator in ("!", "!!"):
            label = _("not") if operator == "!" else _("is true")
            return f"{label} {shown[0] if shown else ''} → {arrow}"
        if operator in ITERATING:
            items = self._raw(base(0), arguments[0]) if arguments else None
            count = len(items) if isinstance(items, list) else 0
            return _(
                "%(what)s over %(n)d items → %(result)s", what=ITERATING[operator], n=count, result=arrow
            )
        return f"{operator}({', '.join(shown)}) → {arrow}"

    def _if_sentence(self, base, arguments: list, result: Any) -> str:
        conditions = [(i, arguments[i]) for i in range(0, len(arguments) - 1, 2)]
        for number, (i, condition) in enumerate(conditions, start=1):
            pointer = base(i)
            if self._evaluated(pointer, condition) and _truthy(self._raw(pointer, condition)):
                return _(
                    "condition %(n)d (%(condition)s) is met → %(result)s",
                    n=number,
                    condition=self._operand(pointer, condition),
                    result=value_text(result),
                )
        return _("no condition is met → %(result)s", result=value_text(result))

    # --- operands ------------------------------------------------------------------

    def _evaluated(self, pointer: str, argument: Any) -> bool:
        node = self.by_pointer.get(pointer)
        return (node is None and not isinstance(argument, dict)) or (
            node is not None and node["id"] in self.results
        )

    def _raw(self, pointer: str, argument: Any) -> Any:
        """An argument's value: its node's result, or the literal itself."""
        node = self.by_pointer.get(pointer)
        if node is None:
            return argument
        return self.results.get(node["id"])

    def _operand(self, pointer: str, argument: Any) -> str:
        """An argument as a sentence shows it: `data.amount (3000)`, a literal, or a result."""
        node = self.by_pointer.get(pointer)
        if node is None:
            return value_text(argument)
        if node["id"] not in self.results:
            return "…"
        value = value_text(self.results[node["id"]])
        if isinstance(argument, dict) and len(argument) == 1:
            operator, inner = next(iter(argument.items()))
            base = _arguments_at(pointer, operator, inner)
            inner = inner if isinstance(inner, list) else [inner]
            lookup = self._lookup_of(operator, base, inner)
            if lookup is not None:
                return f"lookup({', '.join(lookup)}) ({value})"
            if operator in ("var", "val"):
                return f"{self._path(operator, base, inner)} ({value})"
        return value

    def _lookup_of(self, operator: str, base, arguments: list) -> list[str] | None:
        if operator != "val" or len(arguments) != 4 or arguments[0] != TABLES_KEY:
            return None
        return [_short(self._raw(base(i), a)) for i, a in enumerate(arguments)][1:]

    def _path(self, operator: str, base, arguments: list) -> str:
        if operator == "var":
            first = self._raw(base(0), arguments[0]) if arguments else ""
            return "" if first is None else str(first)
        return ".".join(_short(self._raw(base(i), a)) for i, a in enumerate(arguments))


def _at(document: Any, pointer: str) -> Any:
    """The sub-rule at a trace pointer (a single argument counts as argument 0)."""
    if not pointer:
        return document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(document, dict):
            document = document.get(token)
        elif isinstance(document, list) and token.isdigit() and int(token) < len(document):
            document = document[int(token)]
        elif token != "0":
            return None
    return document


def _arguments_at(pointer: str, operator: str, arguments: Any):
    """Argument i's pointer: `/op/i`, or `/op` itself when the one argument is not in a list."""
    base = f"{pointer}/{_escape(operator)}"
    if isinstance(arguments, list):
        return lambda i: f"{base}/{i}"
    return lambda i: base


def _operator_of(expression: Any) -> str | None:
    if isinstance(expression, dict) and len(expression) == 1:
        return next(iter(expression))
    return None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _truthy(value: Any) -> bool:
    return engine.ENGINE.truthy(exactjson.dumps(value))


def value_text(value: Any) -> str:
    """A value in a sentence: true/false/empty in words, numbers as exactjson writes them."""
    if value is True:
        return _("true")
    if value is False:
        return _("false")
    if value is None:
        return _("empty")
    if isinstance(value, str):
        return _short(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)  # the engine writes 3000 read from 3000.00 as 3000.0: shown as 3000
    return _short_text(exactjson.dumps(value))


def _short(value: Any) -> str:
    return _short_text(value if isinstance(value, str) else exactjson.dumps(value))


def _short_text(text: str) -> str:
    return text if len(text) <= SHORT else text[: SHORT - 1] + "…"
