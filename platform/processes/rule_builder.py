"""The condition builder for one process: what it offers (fields, context values, table
columns), values typed into it, sentences describing a rule, and the service behind the admin
pages (`rule_builder_views.py`): add, replace and delete one rule of a process; each save goes
through `processes.services.new_draft_from_edit` (a new draft, checked in full: meta-schema,
`formflow.rules.check`, fields, tables). The rows ↔ JSONLogic core is `formflow.rules.builder`."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from formflow.errors import NotFound
from formflow.forms.choice_options import choice_options
from formflow.forms.pointers import join, split
from formflow.forms.schema_keywords import primary_type
from formflow.forms.schema_tree import Tree
from formflow.forms.texts import localized
from formflow.forms.values import Unreadable, read_number
from formflow.i18n import join_list
from formflow.rules.builder import CONTEXT_FIELDS, OPERATORS, Conditions, RowOperator
from formflow.tables import TableLabels, table_labels

# --- what a builder offers: fields, values, tables ---------------------------------------------


@dataclass(frozen=True)
class FieldChoice:
    """A field a condition can test, or a rule can be about."""

    path: str  # what the rule reads: data.amount, row.method, customer.tier
    pointer: str | None  # the form field (/amount, /instalments/*/method); None for context
    label: str
    type: str  # string, number, integer, boolean, array, object ("" when unknown)
    options: tuple[tuple[Any, str], ...] = ()  # (value, label) of a choice field (or list items)

    @property
    def is_list(self) -> bool:
        return self.type == "array"


@dataclass
class Catalogue:
    """Everything a builder form for one spec offers."""

    targets: list[FieldChoice] = field(default_factory=list)  # the fields a rule can be about
    fields: dict[str, FieldChoice] = field(default_factory=dict)  # what conditions test, by path
    thresholds: list[tuple[str, str]] = field(default_factory=list)  # ("table:column", label)
    tables: dict[str, TableLabels] = field(default_factory=dict)  # what the tables are called

    def list_fields(self) -> list[str]:
        return [path for path, choice in self.fields.items() if choice.is_list]

    @property
    def operators(self) -> list[RowOperator]:
        return list(OPERATORS.values())

    def options_id(self, path: str) -> str | None:
        """The id of the <datalist> of a choice field's values (None for other fields)."""
        choice = self.fields.get(path)
        if choice is None or not choice.options:
            return None
        return f"ff-builder-options-{list(self.fields).index(path) + 1}"

    def option_texts(self, path: str) -> list[tuple[str, str]]:
        return [(value_text(value), label) for value, label in self.fields[path].options]


def catalogue(spec: dict) -> Catalogue:
    """The fields, context values and table columns of `spec` a builder offers."""
    from formflow.processes.rule_checks import form_fields
    from formflow.processes.rule_inputs import spec_tables

    form = spec.get("form") or {}
    schema, ui_schema = form.get("schema") or {}, form.get("uiSchema") or {}
    tree = Tree(schema, ui_schema)
    found = Catalogue()
    fields = form_fields(spec)
    order = {pointer: position for position, pointer in enumerate(_form_order(schema, ui_schema, tree))}
    for pointer in sorted(fields, key=lambda pointer: (order.get(pointer, len(order)), pointer)):
        field_schema = fields[pointer]
        tokens = split(pointer)
        if tokens and tokens[-1] == "*":
            continue  # the row itself: its fields are offered one by one
        ui = _ui_at(ui_schema, tokens)
        kind = primary_type(tree.deref(field_schema))
        label = " › ".join(_titles(schema, ui_schema, tokens, tree))
        options = tuple((option.value, option.label) for option in choice_options(field_schema, ui, tree))
        path = _read_path(tokens)
        choice = FieldChoice(path, pointer, label, kind, options)
        found.targets.append(choice)
        if kind != "object" and path not in found.fields:
            found.fields[path] = choice
    for path, label in CONTEXT_FIELDS:
        found.fields.setdefault(
            path, FieldChoice(path, None, str(label), "string", _context_options(path, spec))
        )
    labels = table_labels(spec)
    own = {t.get("key") for t in spec.get("tables") or [] if isinstance(t, dict)}
    # the process's own tables first (the likeliest choice), then the global ones
    for name, table in sorted(spec_tables(spec).items(), key=lambda item: item[0] not in own):
        columns = list(table.get("columns") or [])
        key_column = table.get("keyColumn") or (columns[0] if columns else None)
        shown = labels.get(name) or TableLabels(name, name)
        found.thresholds += [
            (f"{name}:{column}", f"{shown.title} · {shown.column(column)}")
            for column in columns
            if column != key_column
        ]
        found.tables[name] = shown
    return found


def _context_options(path: str, spec: dict) -> tuple[tuple[Any, str], ...]:
    """The values a context field takes, with what people read for them."""
    if path == "customer.status":
        from formflow.customers.models import status_labels

        return tuple(status_labels().items())
    if path == "case.state":
        from formflow.processes.titles import state_title

        states = ((spec.get("workflow") or {}).get("states") or {}) if isinstance(spec, dict) else {}
        return tuple((name, state_title(spec, name)) for name in states)
    return ()


def _form_order(schema: dict, ui: Any, tree: Tree, pointer: str = "", depth: int = 0) -> Iterable[str]:
    """Field pointers in the order the form shows them (ui:order, then property order)."""
    from formflow.forms.schema_tree import ordered
    from formflow.processes.field_schemas import all_properties

    schema = tree.deref(schema)
    ui = ui if isinstance(ui, dict) else {}
    if depth > 12:
        return
    properties = all_properties(tree, schema)
    for name in ordered(list(properties), ui.get("ui:order")):
        child = join(pointer, name)
        yield child
        yield from _form_order(properties[name], ui.get(name), tree, child, depth + 1)
    items = schema.get("items")
    if isinstance(items, dict) and pointer:
        yield join(pointer, "*")
        yield from _form_order(items, ui.get("items"), tree, join(pointer, "*"), depth + 1)


def _read_path(tokens: list[str]) -> str:
    """/amount -> data.amount; /instalments/*/method -> row.method (the row's own field)."""
    if "*" in tokens:
        last = len(tokens) - 1 - tokens[::-1].index("*")
        return ".".join(["row", *tokens[last + 1 :]])
    return ".".join(["data", *tokens])


def _ui_at(ui_schema: Any, tokens: list[str]) -> dict:
    ui = ui_schema if isinstance(ui_schema, dict) else {}
    for token in tokens:
        ui = ui.get("items" if token == "*" else token) or {}
        if not isinstance(ui, dict):
            return {}
    return ui


def _titles(schema: dict, ui_schema: dict, tokens: list[str], tree: Tree) -> list[str]:
    from formflow.processes.field_schemas import field_schema

    titles = []
    for position, token in enumerate(tokens):
        if token == "*":
            continue
        partial = tokens[: position + 1]
        ui = _ui_at(ui_schema, partial)
        here = tree.deref(field_schema(schema, "/" + "/".join(partial)))
        titles.append(localized(ui.get("ui:title")) or localized(here.get("title")) or token)
    return titles


def parse_value(text: str, choice: FieldChoice | None, *, many: bool = False) -> Any:
    """The typed value of what was typed into a row's value box (ValueError with a message
    when it does not fit the field: a number field takes numbers, a choice one of its options)."""
    if many:
        parts = [part.strip() for part in re.split(r"[,，\n]", text or "") if part.strip()]
        if not parts:
            raise ValueError(_("Enter one or more values, separated by commas."))
        return [parse_value(part, choice) for part in parts]
    text = (text or "").strip()
    if text == "":
        raise ValueError(_("Enter a value."))
    if choice is None:
        return text
    if choice.options:
        for value, label in choice.options:
            if text in (value_text(value), label):
                return value
        names = ", ".join(value_text(value) for value, _label in choice.options)
        raise ValueError(_("Choose one of: %(names)s.", names=names))
    if choice.type in ("number", "integer"):
        try:
            number = read_number(text, integer=choice.type == "integer")
        except Unreadable as error:
            raise ValueError(str(error)) from None
        return int(number) if number == int(number) else float(number)
    if choice.type == "boolean":
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "是"):
            return True
        if lowered in ("false", "no", "0", "否"):
            return False
        raise ValueError(_("Enter true or false."))
    return text


def value_text(value: Any) -> str:
    """A row's value as the builder shows it in its text box."""
    if isinstance(value, list):
        return ", ".join(value_text(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | Decimal) and value == int(value):
        return str(int(value))
    return "" if value is None else str(value)


def describe(conditions: Conditions, found: Catalogue) -> str:
    """'Reason equals Other and Amount ≤ Deduction limits · Single limit (by Customer tier)':
    fields, options, tables and columns by the titles people read."""
    parts = []
    for row in conditions.rows:
        choice = found.fields.get(row["field"])
        label = choice.label if choice else row["field"]
        entry = OPERATORS[row["op"]]
        if entry.operand == "lookup":
            table = found.tables.get(row["table"]) or TableLabels(row["table"], row["table"])
            by = found.fields.get(row["key"] or "")
            bound = _(
                "%(table)s · %(column)s (by %(key)s)",
                table=table.title,
                column=table.column(row["column"]),
                key=by.label if by else row["key"],
            )
            parts.append(f"{label} {entry.label} {bound}")
        elif entry.operand == "none":
            parts.append(f"{label} {entry.label}")
        else:
            parts.append(f"{label} {entry.label} {_value_label(row.get('value'), choice)}")
    joiner = _(" and ") if conditions.combinator == "all" else _(" or ")
    return joiner.join(parts)


def _value_label(value: Any, choice: FieldChoice | None) -> str:
    """A value as people read it: a choice's label (a list of them joined), else its text."""
    options = {value_text(option): label for option, label in (choice.options if choice else ())}
    if isinstance(value, list):
        return join_list(options.get(value_text(item)) or value_text(item) for item in value)
    return options.get(value_text(value)) or value_text(value)


# --- the service: one rule of a process -------------------------------------------------------


@dataclass(frozen=True)
class SavedRule:
    result: Any  # processes.services.ImportResult
    index: int


def latest_spec(key: str) -> tuple[Any, dict]:
    """The latest version of process `key` (what an edit starts from) and its spec."""
    from formflow.processes import services

    version = services.latest_version(key)
    return version, version.spec


def find_rule(spec: dict, rule_id: str) -> tuple[int, dict]:
    for index, rule in enumerate(spec.get("rules") or []):
        if isinstance(rule, dict) and rule.get("id") == rule_id:
            return index, rule
    raise NotFound(_("No rule %(id)s in the latest version.", id=rule_id))


def save_rule(key: str, rule: dict, *, replacing: str | None = None, actor=None) -> SavedRule:
    """Add `rule` to the latest spec of `key` (or put it in place of rule `replacing`) and
    save that as a draft. Invalid with pointers into the spec (`/rules/3/when/and/1/var`)."""
    from formflow.processes import services

    spec = copy.deepcopy(latest_spec(key)[1])
    rules = list(spec.get("rules") or [])
    if replacing is None:
        index = len(rules)
        rules.append(rule)
    else:
        index, _rule = find_rule(spec, replacing)
        rules[index] = rule
    spec["rules"] = rules
    return SavedRule(services.new_draft_from_edit(key, spec, actor=actor), index)


def delete_rule(key: str, rule_id: str, *, actor=None):
    """Remove rule `rule_id` from the latest spec of `key`, saved as a draft."""
    from formflow.processes import services

    spec = copy.deepcopy(latest_spec(key)[1])
    index, _rule = find_rule(spec, rule_id)
    spec["rules"] = [rule for position, rule in enumerate(spec["rules"]) if position != index]
    if not spec["rules"]:
        del spec["rules"]
    return services.new_draft_from_edit(key, spec, actor=actor)


def errors_of_rule(errors: list[dict], index: int) -> tuple[list[dict], list[dict]]:
    """Split a save's errors: those about rule `index` (pointers relative to the rule:
    `/when/and/1/var`) and the rest (pointers into the spec)."""
    prefix = f"/rules/{index}"
    own, rest = [], []
    for error in errors:
        pointer = error.get("pointer", "")
        if pointer == prefix or pointer.startswith(prefix + "/"):
            own.append({**error, "pointer": pointer[len(prefix) :]})
        else:
            rest.append(error)
    return own, rest


def row_of_error(pointer: str, rows: int) -> int | None:
    """Which builder row a rule-relative pointer (`/when/and/1/var`) is about."""
    tokens = split(pointer) if pointer.startswith("/") else []
    if not tokens or tokens[0] != "when":
        return None
    if rows > 1 and len(tokens) > 2 and tokens[1] in ("and", "or") and tokens[2].isdigit():
        return int(tokens[2]) if int(tokens[2]) < rows else None
    return 0 if rows == 1 else None
