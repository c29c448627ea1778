"""`display(...)`: the data as titled rows for read-only pages (case page, exports)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from formflow.forms.schema_tree import MISSING, Node, Tree
from formflow.forms.values import input_value

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
            return "、".join(labels.get(token, token) for token in shown)
        return labels.get(shown, shown)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if node.widget == "money" and isinstance(value, int | Decimal):
        amount = Decimal(value)
        if amount == amount.quantize(CENT):  # padded to two places, never rounded
            return f"{amount.quantize(CENT):,}"
    return str(input_value(node))


def field_titles(schema: dict, ui_schema: dict | None, data: Any) -> dict[str, str]:
    """pointer -> the field's title as the form shows it (ui:title in the user's language)."""
    root = Tree(schema, ui_schema).build(data if data is not None else {})
    return {node.pointer: node.title for node in root.walk() if node.title}
