"""Stored values in one shape: numbers in plain notation (`1e3` is stored as 1000, never
`1E+3`), amounts of a money field with two places (1000.00), so every page, notice and
export shows what was meant."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from formflow.forms.pointers import assign
from formflow.forms.schema_tree import MISSING, Node, Tree

CENT = Decimal("0.01")


def plain(number: Decimal) -> Decimal:
    """The same number without an exponent: Decimal('1E+3') -> Decimal('1000')."""
    if not number.is_finite() or abs(number.adjusted()) > 40:
        return number  # far beyond any amount: left for validation to refuse, never expanded
    return Decimal(format(number, "f"))


def _plain_everywhere(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dict):
        return {key: _plain_everywhere(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_everywhere(item) for item in value]
    return value


def normalise(schema: dict, ui_schema: dict | None, data: Any) -> Any:
    """`data` with numbers in plain notation and money amounts padded to two places (an
    amount with more places is left for validation to refuse, never rounded here)."""
    data = _plain_everywhere(data)
    if not isinstance(data, dict):
        return data
    root = Tree(schema, ui_schema).build(data)
    for node in root.walk():
        if node.kind != "field" or node.widget != "money" or node.value is MISSING:
            continue
        if isinstance(node.value, int | Decimal) and not isinstance(node.value, bool):
            amount = Decimal(node.value)
            if amount.is_finite() and amount == amount.quantize(CENT):
                assign(data, node.pointer, amount.quantize(CENT))
    return data


def file_fields(schema: dict, ui_schema: dict | None, data: Any) -> list[Node]:
    """The file fields that have a value (`node.pointer`, `node.value`, the field's limits)."""
    if not isinstance(data, dict):
        return []
    root = Tree(schema, ui_schema).build(data)
    return [
        node
        for node in root.walk()
        if node.kind == "field" and node.widget == "file" and node.value is not MISSING
    ]
