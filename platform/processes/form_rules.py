"""Rule kinds on a form (docs/rules-spec.md): `visible`, `required`, `enable`, `compute`,
`validate`, evaluated over a form's data in one context, per row inside repeating groups.

The server always re-evaluates everything (on every save and submit); the browser runs
the same rules only to preview."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow.forms.pointers import assign, join, resolve, split
from formflow.forms.texts import localized
from formflow.i18n import join_list
from formflow.rules.context import fragment
from formflow.rules.engine import compile, prepare
from formflow.rules.errors import RuleError
from formflow.rules.operators import OperatorFailure, to_money

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


def rule_context(data, *, customer=None, account=None, case=None, user=None, now=None) -> dict:
    """The one context every rule sees (row and index are added per row)."""
    moment = now or datetime.now(UTC)
    return {
        "data": data,
        "customer": customer.snapshot() if hasattr(customer, "snapshot") else (customer or {}),
        "account": account or {},
        "case": case or {},
        "user": _user(user),
        "now": moment.isoformat(timespec="seconds") if isinstance(moment, datetime) else str(moment),
    }


def _user(user) -> dict:
    if user is None or not getattr(user, "is_authenticated", True):
        return {}
    if isinstance(user, dict):
        return user
    return {"username": getattr(user, "username", ""), "roles": list(getattr(user, "role_names", []))}


def spec_tables(spec: dict) -> dict[str, dict]:
    """The tables a rule may `lookup`: the spec's own, plus global tables when available."""
    try:
        from formflow.tables import tables_for
    except ImportError:  # before parameter tables existed
        return {
            t["key"]: _normalized(t) for t in spec.get("tables") or [] if isinstance(t, dict) and "key" in t
        }
    return tables_for(spec)


def version_tables(version) -> dict[str, dict]:
    """The tables a process version's rules read (global tables as pinned at publish)."""
    try:
        from formflow.tables import tables_for_version
    except ImportError:
        return spec_tables(version.spec)
    return tables_for_version(version)


def _normalized(table: dict) -> dict:
    columns = [c["name"] if isinstance(c, dict) else c for c in table.get("columns") or []]
    return {"keyColumn": table.get("keyColumn") or (columns[0] if columns else ""), "columns": columns,
            "rows": table.get("rows") or []}  # fmt: skip


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

#: `{name}` in a validate rule's message: the value of its param `name`
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,39})\}")


def placeholders(text: Any) -> list[str]:
    """The param names a message text (or each language of one) uses, in order."""
    texts = text.values() if isinstance(text, dict) else [text]
    found: list[str] = []
    for value in texts:
        for name in PLACEHOLDER.findall(value) if isinstance(value, str) else []:
            if name not in found:
                found.append(name)
    return found


def validate_message(rule: dict, context: Any, *, spec: dict, tables: dict, today: date | None = None) -> str:
    """A failed validate rule's message in the user's language, its `{name}`s filled with
    the values of its `params` (JSONLogic over the same context): a money value with two
    places and grouping ("超过 C 级客户单笔扣款上限 5,000.00 元")."""
    text = localized(rule.get("message"))
    if not text:
        return _("Rule “%(rule)s” is not met.", rule=rule.get("id"))
    params = rule.get("params") if isinstance(rule.get("params"), dict) else {}
    if not params or not PLACEHOLDER.search(text):
        return text
    values = {}
    for name, expression in params.items():
        try:
            value = compile(expression).evaluate(context, today=today, rule_id=rule.get("id"))
        except RuleError:
            value = None  # a param that fails shows as "—"; the rule's verdict stands
        values[name] = param_text(value, money=is_money(expression, spec, tables, rule.get("field", "")))
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def param_text(value: Any, *, money: bool = False) -> str:
    """A param's value in a message (the browser's rules.js writes them the same way)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        if money or isinstance(value, Decimal):
            try:
                return f"{to_money(value):,}"
            except OperatorFailure:
                return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, list):
        return join_list(param_text(item) for item in value)
    return str(value)


def is_money(expression: Any, spec: dict, tables: dict, field: str = "") -> bool:
    """Whether a param reads an amount: a money column of a table, a money field of the
    form, or the `money` operator."""
    if not isinstance(expression, dict) or len(expression) != 1:
        return False
    ((operator, arguments),) = expression.items()
    if operator == "money":
        return True
    if operator == "lookup" and isinstance(arguments, list) and len(arguments) == 3:
        table = tables.get(arguments[0]) if isinstance(arguments[0], str) else None
        return isinstance(table, dict) and (table.get("types") or {}).get(arguments[2]) == "money"
    if operator == "var":
        path = arguments[0] if isinstance(arguments, list) and arguments else arguments
        if not isinstance(path, str) or not path.startswith(("data.", "row.")):
            return False
        tokens = path.split(".")[1:]
        if path.startswith("row."):  # a field of the row the rule's field is in
            rule_tokens = split(field) if field else []
            if "*" not in rule_tokens:
                return False
            tokens = rule_tokens[: len(rule_tokens) - rule_tokens[::-1].index("*")] + tokens
        schema = (spec.get("form") or {}).get("schema") or {}
        target = field_schema(schema, join("", *tokens))
        return "multipleOf" in target and Decimal(str(target["multipleOf"])) == Decimal("0.01")
    return False


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


def field_schema(schema: dict, pointer: str) -> dict:
    """The schema of the field at `pointer` (rows and branches looked through; {} if none)."""
    from formflow.forms.schema_tree import Tree

    tree = Tree(schema)
    current = schema
    for token in split(pointer):
        current = tree.deref(current)
        merged = _all_properties(tree, current)
        if token in merged:
            current = merged[token]
        elif token.isdigit() or token == "*":
            current = current.get("items") or {}
        else:
            return {}
    return tree.deref(current)


def _all_properties(tree, schema: dict) -> dict:
    properties = dict(schema.get("properties") or {})
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            properties.update(_all_properties(tree, tree.deref(part)))
    for key in ("then", "else"):
        if isinstance(schema.get(key), dict):
            properties.update(_all_properties(tree, tree.deref(schema[key])))
    for part in (schema.get("dependentSchemas") or {}).values():
        properties.update(_all_properties(tree, tree.deref(part)))
    return properties


def known_vars(spec: dict) -> list[str]:
    """Every dotted path a rule of this spec may read (for `check`)."""
    from formflow.forms.schema_tree import Tree

    schema = (spec.get("form") or {}).get("schema") or {}
    tree = Tree(schema)
    found = {"data", "customer.code", "customer.name", "customer.tier", "customer.status", "account",
             "case.id", "case.state", "case.process", "case.version", "user.username", "user.roles", "now",
             "index", "row"}  # fmt: skip

    def walk(node: Any, path: list[str], row: list[str] | None, depth: int) -> None:
        if depth > 12:
            return
        node = tree.deref(node)
        for name, sub in _all_properties(tree, node).items():
            found.add(".".join(["data", *path, name]))
            if row is not None:
                found.add(".".join(["row", *row, name]))
            walk(sub, [*path, name], None if row is None else [*row, name], depth + 1)
        items = node.get("items")
        if isinstance(items, dict):
            walk(items, path, [], depth + 1)

    walk(schema, [], None, 0)
    return sorted(found)


def _drop(data: dict, pointer: str) -> None:
    tokens = split(pointer)
    holder = resolve(data, join("", *tokens[:-1])) if tokens else None
    if isinstance(holder, dict):
        holder.pop(tokens[-1], None)
