"""The options a field offers: an enum, a oneOf/anyOf of consts, a boolean, or an array of those."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from formflow.forms.nodes import Option
from formflow.forms.schema_keywords import primary_type, types_of
from formflow.forms.texts import localized
from formflow.forms.validation import exact

if TYPE_CHECKING:
    from formflow.forms.schema_tree import Tree


def const_options(alternatives: list) -> bool:
    return bool(alternatives) and all(isinstance(a, dict) and "const" in a for a in alternatives)


def nullable_alternative(alternatives: list, tree: Tree) -> dict | None:
    """anyOf [X, {type: null}] is just "X or empty"."""
    resolved = [tree.deref(a) for a in alternatives]
    nulls = [a for a in resolved if types_of(a) == ["null"]]
    others = [a for a in resolved if types_of(a) != ["null"]]
    if len(nulls) == 1 and len(others) == 1 and primary_type(others[0]) not in ("object", "array"):
        return others[0]
    return None


def token_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        # one token per number, whether the schema holds 0.06 and the data Decimal("0.060")
        number = exact(value)
        if isinstance(number, Decimal | int):
            return format(Decimal(number).normalize(), "f")
    return json.dumps(exact(value), ensure_ascii=False, default=str)


def choice_options(schema: dict, ui: dict, tree: Tree) -> list[Option]:
    """The options of an enum, a oneOf/anyOf of consts, a boolean, or an array of those.

    Labels: ui:enumNames (texts per language) first, then each const's title, then the value."""
    source = schema
    if primary_type(schema) == "array":
        source = tree.deref(schema.get("items") or {})
    names = ui.get("ui:enumNames")
    labels = names if isinstance(names, list) else []
    alternatives = source.get("oneOf") or source.get("anyOf")
    if alternatives and const_options(alternatives):
        pairs = [(a["const"], a.get("title")) for a in (tree.deref(a) for a in alternatives)]
    elif "enum" in source:
        pairs = [(value, None) for value in source["enum"]]
    else:
        return []
    return [
        Option(
            token_of(value),
            (localized(labels[i], tree.language) if i < len(labels) else "")
            or localized(title, tree.language)
            or token_of(value),
            value,
        )
        for i, (value, title) in enumerate(pairs)
    ]


def is_multi_choice(schema: dict, ui: dict, tree: Tree) -> bool:
    """An array of enum values: one input (checkboxes or a multi-select), not rows."""
    items = tree.deref(schema.get("items") or {})
    return "enum" in items or const_options(items.get("oneOf") or items.get("anyOf") or [])
