"""The checks of a spec's `rules` (and the pointers its `tests` name) that the meta-schema
cannot make (docs/rules-spec.md): each rule's JSONLogic through `formflow.rules.check`, with
pointers reaching into the spec (`/rules/3/when/and/1/var`); unique ids; fields that exist;
`row`/`index` only in rules on rows; lookups of tables and columns that exist; no cycle among
compute rules. Called by `spec.check_spec` once the spec's shape is sound."""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _

from formflow.forms.pointers import escape, join, split
from formflow.forms.schema_keywords import primary_type
from formflow.processes.field_schemas import field_schema, known_vars
from formflow.processes.rule_inputs import spec_tables
from formflow.processes.rule_messages import placeholders
from formflow.rules import check, compile
from formflow.rules.checking import scoped_operations, var_paths
from formflow.rules.errors import RuleError

ROW_VARS = ("row", "index")


def check_rules(spec: dict, *, tables_sound: bool = True, skip: Iterable[int] = ()) -> list[dict]:
    """Problems in `spec["rules"]` and in the field pointers of `spec["tests"]`.

    `skip`: indexes of rules the meta-schema already refused (not checked again);
    `tables_sound`: False when `tables` has problems of its own (lookups are then not checked).
    """
    rules = [rule if isinstance(rule, dict) else {} for rule in spec.get("rules") or []]
    skipped = set(skip)
    known = known_vars(spec)
    fields = form_fields(spec, known)
    tables = _table_columns(spec) if tables_sound else None
    errors: list[dict] = []
    errors += _duplicate_ids(rules)
    sound: dict[int, dict] = {}
    for index, rule in enumerate(rules):
        if index in skipped:
            continue
        where = f"/rules/{index}"
        field_errors = _field_errors(rule.get("field", ""), fields)
        errors += [{"pointer": where + "/field", "message": message} for message in field_errors]
        if rule.get("kind") == "validate":
            errors += _message_errors(rule, where, known, tables)
        member = "value" if rule.get("kind") == "compute" else "when"
        if member not in rule:
            continue
        expression_errors = _expression_errors(rule, member, known, tables)
        errors += [
            {"pointer": f"{where}/{member}{error['pointer']}", "message": error["message"]}
            for error in expression_errors
        ]
        if not field_errors and not expression_errors:
            sound[index] = rule
    errors += _compute_problems(sound)
    errors += _test_pointer_errors(spec.get("tests") or [], fields)
    return errors


# --- the form's fields ----------------------------------------------------------------------


def form_fields(spec: dict, known: list[str] | None = None) -> dict[str, dict]:
    """Every field a rule may name, as a pointer with `*` for the rows of arrays
    (`/instalments/*/amount`), with its schema."""
    schema = (spec.get("form") or {}).get("schema") or {}
    fields: dict[str, dict] = {}
    for path in known if known is not None else known_vars(spec):
        parts = path.split(".")
        if parts[0] != "data" or len(parts) < 2:
            continue
        pointer = ""
        for position, token in enumerate(parts[1:], start=1):
            pointer = join(pointer, token)
            found = fields.get(pointer)
            if found is None:
                found = fields[pointer] = field_schema(schema, pointer)
            if primary_type(found) == "array" and isinstance(found.get("items"), dict):
                row = join(pointer, "*")
                fields.setdefault(row, field_schema(schema, row))
                if position < len(parts) - 1:
                    pointer = row
    return fields


def _field_errors(template: str, fields: dict[str, dict]) -> list[str]:
    if template in fields:
        return []
    try:
        tokens = split(template)
    except ValueError:
        return []  # the meta-schema says so
    starred = join("", *("*" if token.isdigit() else token for token in tokens))
    if starred != template and starred in fields:
        return [_("Use * for the row: %(pointer)s.", pointer=starred)]
    return [_unknown_field(template, fields)]


def _unknown_field(pointer: str, fields: Iterable[str]) -> str:
    close = difflib.get_close_matches(pointer, list(fields), n=1, cutoff=0.6)
    if close:
        return _(
            "No form field %(pointer)s; did you mean %(suggestion)s?", pointer=pointer, suggestion=close[0]
        )
    return _("No form field %(pointer)s.", pointer=pointer)


def _row_array(template: str) -> list[str] | None:
    """The data path of the rows a rule on `template` runs over (its last `*`), or None."""
    tokens = split(template) if template.startswith("/") else []
    if "*" not in tokens:
        return None
    last = len(tokens) - 1 - tokens[::-1].index("*")
    return [token for token in tokens[:last] if token != "*"]


# --- one rule's JSONLogic -------------------------------------------------------------------


def _expression_errors(
    rule: dict, member: str, known: list[str], tables, expression: Any = None
) -> list[dict]:
    """`check` of `rule[member]` (or of `expression`) with the vars this rule may read;
    pointers into the member."""
    expression = rule[member] if expression is None else expression
    rows = _row_array(rule.get("field", ""))
    plain = [path for path in known if path not in ROW_VARS and not path.startswith("row.")]
    if rows is None:
        misuse = _row_vars_outside_rows(expression)
        allowed = [*plain, *ROW_VARS] if misuse else plain
        return misuse + check(expression, known_vars=allowed, tables=tables)
    prefix = ".".join(["data", *rows]) + "."
    own_row = ["row." + path[len(prefix) :] for path in plain if path.startswith(prefix)]
    return check(expression, known_vars=[*plain, *ROW_VARS, *own_row], tables=tables)


def _message_errors(rule: dict, where: str, known: list[str], tables) -> list[dict]:
    """A validate rule's `params` (each JSONLogic, checked as its `when`) and the `{name}`s
    of its message, each of which needs a param."""
    params = rule.get("params") if isinstance(rule.get("params"), dict) else {}
    errors = []
    for name, expression in params.items():
        errors += [
            {"pointer": f"{where}/params/{escape(name)}{error['pointer']}", "message": error["message"]}
            for error in _expression_errors(rule, "params", known, tables, expression)
        ]
    message = rule.get("message") if isinstance(rule.get("message"), dict) else {}
    for language, text in message.items():
        for name in placeholders(text):
            if name in params:
                continue
            close = difflib.get_close_matches(name, list(params), n=1, cutoff=0.6)
            if close:
                problem = _(
                    "The message uses {%(name)s}, but the rule has no such param; did you mean {%(close)s}?",
                    name=name,
                    close=close[0],
                )
            elif params:
                problem = _(
                    "The message uses {%(name)s}, but the rule has no param %(name)s (params: %(names)s).",
                    name=name,
                    names=", ".join(params),
                )
            else:
                problem = _(
                    "The message uses {%(name)s}: give the rule params with a value for %(name)s.", name=name
                )
            errors.append({"pointer": f"{where}/message/{escape(language)}", "message": problem})
    return errors


def _row_vars_outside_rows(expression: Any) -> list[dict]:
    problems = []
    for pointer, name, arguments, scope in scoped_operations(expression):
        if name != "var" or scope is not None or not arguments:
            continue
        read = arguments[0]
        if isinstance(read, str) and read.split(".")[0] in ROW_VARS:
            where = join(pointer, "var", 0) if len(arguments) > 1 else join(pointer, "var")
            message = _(
                "%(name)s exists only in a rule on a field inside a repeating group "
                "(a field pointer with *, e.g. /instalments/*/amount).",
                name=read,
            )
            problems.append({"pointer": where, "message": message})
    return problems


def _table_columns(spec: dict) -> dict[str, list[str]] | None:
    try:
        tables = spec_tables(spec)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # the tables' own checks report what is wrong with them
    return {name: list(table.get("columns") or []) for name, table in tables.items()}


# --- across rules ---------------------------------------------------------------------------


def _duplicate_ids(rules: list[dict]) -> list[dict]:
    first: dict[str, int] = {}
    errors = []
    for index, rule in enumerate(rules):
        rule_id = rule.get("id")
        if not isinstance(rule_id, str):
            continue
        if rule_id in first:
            message = _(
                "Another rule (/rules/%(index)d) already has the id “%(id)s”.",
                index=first[rule_id],
                id=rule_id,
            )
            errors.append({"pointer": f"/rules/{index}/id", "message": message})
        else:
            first[rule_id] = index
    return errors


def _compute_problems(rules: dict[int, dict]) -> list[dict]:
    """Two computes of one field, and cycles: each participant's `/value` spells the cycle."""
    computes = {index: rule for index, rule in rules.items() if rule.get("kind") == "compute"}
    errors = []
    target_of: dict[int, list[str]] = {}
    owner: dict[str, int] = {}
    for index, rule in computes.items():
        if rule["field"] in owner:
            message = _(
                "Rule “%(other)s” (/rules/%(index)d) already computes this field.",
                other=computes[owner[rule["field"]]]["id"],
                index=owner[rule["field"]],
            )
            errors.append({"pointer": f"/rules/{index}/field", "message": message})
            continue
        owner[rule["field"]] = index
        target_of[index] = [token for token in split(rule["field"]) if token != "*"]
    reads = {index: _reads(computes[index]) for index in target_of}
    edges = {
        index: sorted(
            other
            for other, target in target_of.items()
            if any(path[: len(target)] == target for path in reads[index])
        )
        for index in target_of
    }
    for index in sorted(edges):
        cycle = _shortest_cycle(index, edges)
        if cycle == [index, index]:
            message = _(
                "This compute rule reads the field it computes (%(field)s).", field=computes[index]["field"]
            )
            errors.append({"pointer": f"/rules/{index}/value", "message": message})
        elif cycle:
            names = " → ".join(f"{computes[step]['id']} ({computes[step]['field']})" for step in cycle)
            message = _("The compute rules depend on each other in a cycle: %(cycle)s.", cycle=names)
            errors.append({"pointer": f"/rules/{index}/value", "message": message})
    return errors


def _reads(rule: dict) -> list[list[str]]:
    """Data paths a compute rule reads (row reads resolved to the rows' array), row indexes dropped."""
    try:
        paths = [list(map(str, path)) for path in compile(rule["value"]).facts().get("reads", [])]
    except RuleError:
        return []
    paths += [path.split(".") for path in var_paths(rule["value"])]
    rows = _row_array(rule["field"])
    found = []
    for path in paths:
        head, rest = (path[0], path[1:]) if path else ("", [])
        if head == "data":
            found.append(rest)
        elif head == "row" and rows is not None:
            found.append([*rows, *rest])
    return [[part for part in path if not part.isdigit()] for path in found]


def _shortest_cycle(start: int, edges: dict[int, list[int]]) -> list[int] | None:
    """start → … → start, breadth first (fewest steps), or None."""
    parent: dict[int, int | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in edges.get(node, []):
            if target == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if target not in parent:
                parent[target] = node
                queue.append(target)
    return None


# --- the pointers the tests name ------------------------------------------------------------


def _test_pointer_errors(tests: list, fields: dict[str, dict]) -> list[dict]:
    errors = []
    for index, test in enumerate(tests):
        expect = test.get("expect") if isinstance(test, dict) else None
        if not isinstance(expect, dict):
            continue
        where = f"/tests/{index}/expect"
        for position, pointer in enumerate(expect.get("errors") or []):
            if isinstance(pointer, str) and pointer and not _names_field(pointer, fields):
                errors.append(
                    {"pointer": f"{where}/errors/{position}", "message": _unknown_field(pointer, fields)}
                )
        for member in ("visible", "required", "enabled", "computed"):
            for pointer in expect.get(member) or {}:
                if not _names_field(pointer, fields):
                    errors.append(
                        {
                            "pointer": f"{where}/{member}/{escape(pointer)}",
                            "message": _unknown_field(pointer, fields),
                        }
                    )
    return errors


def _names_field(pointer: str, fields: dict[str, dict]) -> bool:
    try:
        tokens = split(pointer)
    except ValueError:
        return True  # the meta-schema says so
    return pointer in fields or join("", *("*" if token.isdigit() else token for token in tokens)) in fields
