"""Data keys the form does not declare: a case's data holds the schema's fields and nothing
else (100,000 made-up keys were once stored through the API).

A key is declared at a place in the data when some subschema that can apply there names it
in `properties` or matches it by `patternProperties` — every branch counts (allOf, anyOf,
oneOf, if/then/else, dependentSchemas, `$ref`), so a field of a branch not taken is no
"unknown field" (validation says what is wrong with it). Where a schema sets
`additionalProperties` or `unevaluatedProperties` to anything but false, other keys are the
schema's to judge; where it declares nothing at all (`{"type": "object"}`), nothing is
refused either: the schema asked for a free-form object."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from referencing.exceptions import Unresolvable

from formflow.forms import patterns
from formflow.forms.pointers import join, resolve
from formflow.forms.schema_tree import MAX_DEPTH, Tree

#: Errors reported at most (a body of 100,000 keys gets a readable answer).
MAX_REPORTED = 20
_BRANCHES = ("allOf", "anyOf", "oneOf")
_CONDITIONAL = ("if", "then", "else")
_MISSING = object()


def undeclared(schema: dict, data: Any, previous: Any = None) -> list[dict]:
    """{pointer, message} for each key of `data` that the schema does not declare. A key
    `previous` (the stored data) already holds with the same value is let be: data stored
    before this check existed can still be saved unchanged."""
    checker = _Checker(Tree(schema if isinstance(schema, dict) else {}), previous)
    checker.walk([checker.tree.schema], data, "", 0)
    return checker.errors


class _Checker:
    def __init__(self, tree: Tree, previous: Any):
        self.tree = tree
        self.previous = previous
        self.errors: list[dict] = []

    def walk(self, schemas: list, value: Any, pointer: str, depth: int) -> None:
        if depth > MAX_DEPTH or len(self.errors) >= MAX_REPORTED:
            return
        if isinstance(value, dict):
            self._object(self._applying(schemas), value, pointer, depth)
        elif isinstance(value, list):
            applying = self._applying(schemas)
            for index, item in enumerate(value):
                self.walk(_item_schemas(applying, index), item, join(pointer, index), depth + 1)

    def _object(self, applying: list[dict], value: dict, pointer: str, depth: int) -> None:
        declared: dict[str, list] = {}
        patterns: list[tuple[str, Any]] = []
        others: list = []  # the schemas of keys neither named nor matched
        closed = open_ = False
        for schema in applying:
            if isinstance(schema.get("properties"), dict):
                closed = True
                for name, sub in schema["properties"].items():
                    declared.setdefault(name, []).append(sub)
            if isinstance(schema.get("patternProperties"), dict):
                closed = True
                patterns += list(schema["patternProperties"].items())
            for keyword in ("additionalProperties", "unevaluatedProperties"):
                if keyword in schema:
                    if schema[keyword] is False:
                        closed = True
                    else:
                        open_ = True
                        others.append(schema[keyword])
        if not closed:
            return  # a free-form object: the schema declares no keys
        for key, item in value.items():
            key = str(key)
            subschemas = declared.get(key, []) + [sub for pattern, sub in patterns if _matches(pattern, key)]
            if not subschemas and not open_:
                where = join(pointer, key)
                if resolve(self.previous, where, _MISSING) != item:
                    message = _("The form has no field “%(name)s”.", name=_shortened(key))
                    self.errors.append({"pointer": where, "message": message})
                    if len(self.errors) >= MAX_REPORTED:
                        return
                continue
            self.walk(subschemas or others, item, join(pointer, key), depth + 1)

    def _applying(self, schemas: list) -> list[dict]:
        """Every subschema that may apply at one place: `$ref`s followed, all branches."""
        found: list[dict] = []
        seen: set[int] = set()
        pending = [(schema, 0) for schema in schemas]
        while pending:
            schema, depth = pending.pop()
            if not isinstance(schema, dict) or id(schema) in seen or depth > MAX_DEPTH:
                continue
            seen.add(id(schema))
            if "$ref" in schema:
                try:
                    schema = self.tree.deref(schema)
                except Unresolvable:  # the spec check reports it
                    schema = {k: v for k, v in schema.items() if k != "$ref"}
            found.append(schema)
            for keyword in _BRANCHES:
                if isinstance(schema.get(keyword), list):
                    pending += [(sub, depth + 1) for sub in schema[keyword]]
            pending += [(schema[keyword], depth + 1) for keyword in _CONDITIONAL if keyword in schema]
            if isinstance(schema.get("dependentSchemas"), dict):
                pending += [(sub, depth + 1) for sub in schema["dependentSchemas"].values()]
        return found


def _item_schemas(applying: list[dict], index: int) -> list:
    found = []
    for schema in applying:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and index < len(prefix):
            found.append(prefix[index])
            continue
        items = schema.get("items")
        if isinstance(items, list):  # the older drafts' tuple form
            if index < len(items):
                found.append(items[index])
        elif isinstance(items, dict):
            found.append(items)
    return found


def _shortened(name: str, limit: int = 60) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _matches(pattern: Any, key: str) -> bool:
    """patternProperties as validation runs them: RE2, linear time, whatever the spec says."""
    return isinstance(pattern, str) and patterns.search(pattern, key)
