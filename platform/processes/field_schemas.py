"""The fields of a spec's form as rules see them: the schema at a pointer, every path a rule may read."""

from __future__ import annotations

from typing import Any

from formflow.forms.pointers import split


def field_schema(schema: dict, pointer: str) -> dict:
    """The schema of the field at `pointer` (rows and branches looked through; {} if none)."""
    from formflow.forms.schema_tree import Tree

    tree = Tree(schema)
    current = schema
    for token in split(pointer):
        current = tree.deref(current)
        merged = all_properties(tree, current)
        if token in merged:
            current = merged[token]
        elif token.isdigit() or token == "*":
            current = current.get("items") or {}
        else:
            return {}
    return tree.deref(current)


def all_properties(tree, schema: dict) -> dict:
    properties = dict(schema.get("properties") or {})
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or []:
            properties.update(all_properties(tree, tree.deref(part)))
    for key in ("then", "else"):
        if isinstance(schema.get(key), dict):
            properties.update(all_properties(tree, tree.deref(schema[key])))
    for part in (schema.get("dependentSchemas") or {}).values():
        properties.update(all_properties(tree, tree.deref(part)))
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
        for name, sub in all_properties(tree, node).items():
            found.add(".".join(["data", *path, name]))
            if row is not None:
                found.add(".".join(["row", *row, name]))
            walk(sub, [*path, name], None if row is None else [*row, name], depth + 1)
        items = node.get("items")
        if isinstance(items, dict):
            walk(items, path, [], depth + 1)

    walk(schema, [], None, 0)
    return sorted(found)
