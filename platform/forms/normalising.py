"""Stored values in one shape: numbers in plain notation (`1e3` is stored as 1000, never
`1E+3`), amounts of a money field with two places (1000.00), so every page, notice and
export shows what was meant."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from formflow.forms.nodes import MISSING, Node
from formflow.forms.pointers import assign, join
from formflow.forms.schema_tree import Tree

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
            if amount.is_finite() and amount.adjusted() <= 25 and amount == amount.quantize(CENT):
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


#: No amount reaches this (10^15: a thousand trillion); larger is refused at once.
MONEY_CEILING = Decimal(10) ** 15
#: A number with more digits, or an exponent beyond this, is refused before any arithmetic.
MAX_DIGITS = 40
#: No list in a case's data is longer (a schema's maxItems may ask for fewer), and no object
#: has more keys.
MAX_ITEMS = 5000


def out_of_bounds(schema: dict, ui_schema: dict | None, data: Any) -> list[dict]:
    """{pointer, message} for every number in `data` too long or too large to be meant —
    checked before rules or validation do any arithmetic with it (1e999999999 is 30 bytes)."""
    from flask_babel import gettext as _

    errors: list[dict] = []

    def walk(value: Any, pointer: str) -> None:
        if isinstance(value, dict):
            if len(value) > MAX_ITEMS:  # no form has as many fields: refused before any look-up
                errors.append({"pointer": pointer, "message": _("At most %(n)d fields.", n=MAX_ITEMS)})
                return
            for key, item in value.items():
                walk(item, join(pointer, str(key)))
        elif isinstance(value, list):
            if len(value) > MAX_ITEMS:
                errors.append({"pointer": pointer, "message": _("At most %(n)d rows.", n=MAX_ITEMS)})
                return
            for index, item in enumerate(value):
                walk(item, join(pointer, index))
        elif isinstance(value, Decimal | float) and not isinstance(value, bool):
            number = Decimal(repr(value)) if isinstance(value, float) else value
            if (
                not number.is_finite()
                or len(number.as_tuple().digits) > MAX_DIGITS
                or abs(number.adjusted()) > MAX_DIGITS
            ):
                errors.append({"pointer": pointer, "message": _("This number is too long or too large.")})
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * MAX_DIGITS:
            errors.append({"pointer": pointer, "message": _("This number is too long or too large.")})

    walk(data, "")
    if errors or not isinstance(data, dict):
        return errors
    for node in Tree(schema, ui_schema).build(data).walk():
        value = node.value
        is_amount = node.kind == "field" and node.widget == "money" and isinstance(value, int | Decimal)
        if is_amount and not isinstance(value, bool) and abs(Decimal(value)) >= MONEY_CEILING:
            message = _("An amount must be below %(limit)s.", limit=f"{MONEY_CEILING:,}")
            errors.append({"pointer": node.pointer, "message": message})
    return errors
