"""`display(...)`: the data as titled rows for read-only pages (case page, exports)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from formflow.forms.nodes import MISSING, Node
from formflow.forms.pointers import unescape
from formflow.forms.schema_tree import Tree
from formflow.forms.values import input_value
from formflow.i18n import join_list

CENT = Decimal("0.01")


@dataclass
class DisplayRow:
    pointer: str
    title: str
    value: str  # "" for a group heading
    depth: int
    attachment: str | None = None  # an attachment token, for a download link
    group: bool = False


def display(schema: dict, ui_schema: dict | None, data: Any) -> list[DisplayRow]:
    root = Tree(schema, ui_schema).build(data if data is not None else {})
    rows: list[DisplayRow] = []
    _collect(root, 0, rows)
    return rows


def _collect(node: Node, depth: int, rows: list[DisplayRow]) -> None:
    if node.kind == "choice":
        _collect(node.children[0], depth, rows)
        return
    if node.kind in ("object", "array"):
        if node.value is MISSING and node.pointer:
            return
        if node.pointer:
            rows.append(DisplayRow(node.pointer, node.title, "", depth, group=True))
        for index, child in enumerate(node.children):
            if node.kind == "array" and not child.title:
                child.title = _("Row %(n)d", n=index + 1)
            _collect(child, depth + 1 if node.pointer else depth, rows)
        return
    if node.widget == "password":
        return
    value = node.constant if node.constant is not MISSING else node.value
    if value is MISSING:
        return
    rows.append(DisplayRow(node.pointer, node.title, _text(node, value), depth, _attachment(node, value)))


def _attachment(node: Node, value: Any) -> str | None:
    return value if node.widget == "file" and isinstance(value, str) and value else None


def _text(node: Node, value: Any) -> str:
    if value is None:
        return "—"
    if node.options:
        labels = {option.token: option.label for option in node.options}
        shown = input_value(node)
        if isinstance(shown, list):
            return join_list(labels.get(token, token) for token in shown)
        return labels.get(shown, shown)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if node.widget == "money" and isinstance(value, int | Decimal):
        shown = money_text(value)
        if shown is not None:
            return shown
    return str(input_value(node))


def money_text(value: Any) -> str | None:
    """An amount with two places and grouping (`1,234.50`); None for what is no amount or
    has more places (shown as stored, never rounded)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    amount = Decimal(value)
    # beyond 26 digits quantize leaves the context's precision (InvalidOperation): a stored
    # 1E+28 is shown as stored, and the page never breaks on it
    if not amount.is_finite() or amount.adjusted() > 25 or amount != amount.quantize(CENT):
        return None
    return f"{amount.quantize(CENT):,}"


def field_titles(schema: dict, ui_schema: dict | None, data: Any) -> dict[str, str]:
    """pointer -> the field's title as the form shows it (ui:title in the user's language)."""
    root = Tree(schema, ui_schema).build(data if data is not None else {})
    return {node.pointer: node.title for node in root.walk() if node.title}


@dataclass
class Column:
    """A top-level field of a form, for lists and exports."""

    name: str  # the property's name ("amount")
    pointer: str  # "/amount"
    title: str  # as the form shows it, in the user's language
    money: bool
    #: marked `"ui:options": {"summary": true}`: a field that decides (the inbox shows it)
    summary: bool


def columns(schema: dict, ui_schema: dict | None) -> list[Column]:
    """The form's top-level fields in form order (fields that only a condition adds, with
    the data that triggers it, are not among them)."""
    root = Tree(schema, ui_schema).build({})
    found = []
    for node in root.children:
        if node.widget == "password":
            continue
        title = node.title or node.pointer.lstrip("/")
        money = node.kind == "field" and node.widget == "money"
        name = unescape(node.pointer[1:])
        found.append(Column(name, node.pointer, title, money, node.ui_option("summary") is True))
    return found


def top_level_values(rows: list[DisplayRow], filenames: dict[str, str] | None = None) -> dict[str, str]:
    """`display` rows folded to one text per top-level field: a group's fields as
    "title: value; …"; a file as its filename (from `filenames`, by token)."""
    filenames = filenames or {}
    values: dict[str, list[str]] = {}
    for row in rows:
        if not row.pointer or row.group:
            continue
        top = "/" + row.pointer.split("/")[1]
        text = filenames.get(row.attachment, row.value) if row.attachment else row.value
        values.setdefault(top, []).append(text if row.pointer == top else f"{row.title}: {text}")
    return {pointer: "; ".join(parts) for pointer, parts in values.items()}
