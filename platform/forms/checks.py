"""Checks run when a form definition is saved: is the schema valid JSON Schema 2020-12,
does the uiSchema name real fields and known widgets. Problems carry JSON Pointers."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from jsonschema import Draft202012Validator, FormatChecker
from referencing.exceptions import Unresolvable

from formflow.forms.patterns import pattern_problem
from formflow.forms.pointers import from_path, join
from formflow.forms.schema_keywords import merge, primary_type, types_of
from formflow.forms.schema_tree import MAX_DEPTH, Tree
from formflow.forms.texts import is_text
from formflow.forms.widgets import ALIASES, WIDGETS, lookup

TEXT_KEYS = ("ui:title", "ui:help", "ui:placeholder", "ui:description")
_FORMATS = FormatChecker()
# `pattern` and `patternProperties` are checked by forms/patterns.py (RE2, with the reason);
# Python's `re` would refuse ECMA patterns such as \p{Han} and accept look-arounds.
_FORMATS.checks("regex")(lambda _pattern: True)
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=_FORMATS)


def check_schema(schema: Any) -> list[dict]:
    """Problems that make `schema` not a valid JSON Schema 2020-12 (or unusable as a form)."""
    problems = [
        {
            "pointer": from_path(error.absolute_path),
            "message": _("Invalid JSON Schema: %(detail)s", detail=error.message),
        }
        for error in sorted(_META.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems or not isinstance(schema, dict):
        return problems
    for pointer, pattern in _patterns(schema):
        if (problem := pattern_problem(pattern)) is not None:
            problems.append({"pointer": pointer, "message": problem})
    tree = Tree(schema)
    for pointer, reference in _references(schema):
        try:
            tree.resolver.lookup(reference)
        except (Unresolvable, LookupError, ValueError):
            problems.append(
                {
                    "pointer": join(pointer, "$ref"),
                    "message": _("Cannot resolve $ref %(ref)s.", ref=reference),
                }
            )
    return problems


def _references(schema: dict):
    for pointer, node in _subschemas(schema, ""):
        if isinstance(node.get("$ref"), str):
            yield pointer, node["$ref"]


def _patterns(schema: dict):
    """(pointer, pattern) of every `pattern` and `patternProperties` name in the schema."""
    for pointer, node in _subschemas(schema, ""):
        if isinstance(node.get("pattern"), str):
            yield join(pointer, "pattern"), node["pattern"]
        if isinstance(node.get("patternProperties"), dict):
            for name in node["patternProperties"]:
                yield join(pointer, "patternProperties", name), name


def _subschemas(node: Any, pointer: str):
    """Every object in the schema outside the keywords that hold data (const, enum…)."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            if key not in ("const", "enum", "default", "examples"):
                yield from _subschemas(value, join(pointer, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _subschemas(value, join(pointer, index))


def check_ui_schema(schema: Any, ui_schema: Any) -> list[dict]:
    """Unknown widgets, widgets that cannot edit the field's type, ui:order naming no
    field, texts that are neither a string nor {"zh-CN": …, "en": …}, uiSchema entries for
    fields the schema does not have."""
    if ui_schema is None:
        return []
    if not isinstance(ui_schema, dict):
        return [{"pointer": "", "message": _("The uiSchema must be a JSON object.")}]
    if not isinstance(schema, dict):
        return []
    checker = _UiChecker(Tree(schema))
    checker.visit(schema, ui_schema, "", 0)
    return checker.problems


class _UiChecker:
    def __init__(self, tree: Tree):
        self.tree = tree
        self.problems: list[dict] = []

    def problem(self, pointer: str, message: str) -> None:
        self.problems.append({"pointer": pointer, "message": message})

    def visit(self, schema: Any, ui: dict, pointer: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        schema = self.every_branch(schema, depth)
        self.check_keys(schema, ui, pointer)
        kind = primary_type(schema)
        properties = schema.get("properties") or {}
        if kind == "object":
            self.check_order(properties, ui.get("ui:order"), pointer)
        for name, sub_ui in ui.items():
            if name.startswith("ui:"):
                continue
            child_pointer = join(pointer, name)
            if not isinstance(sub_ui, dict | list):
                self.problem(child_pointer, _("Expected a JSON object of ui: settings."))
            elif kind == "object" and name in properties:
                if isinstance(sub_ui, dict):
                    self.visit(properties[name], sub_ui, child_pointer, depth + 1)
            elif kind == "array" and name in ("items", "additionalItems"):
                items = schema.get("items") if name == "items" else schema.get("items", {})
                entries = sub_ui if isinstance(sub_ui, list) else [sub_ui]
                for index, entry in enumerate(entries):
                    prefix = schema.get("prefixItems") or []
                    item_schema = prefix[index] if isinstance(sub_ui, list) and index < len(prefix) else items
                    where = join(child_pointer, index) if isinstance(sub_ui, list) else child_pointer
                    if isinstance(entry, dict):
                        self.visit(item_schema or {}, entry, where, depth + 1)
            else:
                self.problem(child_pointer, _("The schema has no field “%(name)s” here.", name=name))

    def every_branch(self, schema: Any, depth: int) -> dict:
        """The schema with every allOf / if-then-else / dependentSchemas / alternative merged,
        so a uiSchema entry for a field of any branch is accepted."""
        schema = self.tree.deref(schema)
        result = {k: v for k, v in schema.items() if k not in ("allOf", "then", "else", "dependentSchemas")}
        parts = list(schema.get("allOf") or [])
        parts += [schema[k] for k in ("then", "else") if isinstance(schema.get(k), dict)]
        parts += list((schema.get("dependentSchemas") or {}).values())
        alternatives = schema.get("oneOf") or schema.get("anyOf") or []
        if not all(isinstance(a, dict) and "const" in a for a in alternatives):
            parts += [
                a
                for a in alternatives
                if isinstance(a, dict) and primary_type(self.tree.deref(a)) == "object"
            ]
        for part in parts:
            if depth < MAX_DEPTH:
                result = merge(result, self.every_branch(part, depth + 1))
        return result

    def check_keys(self, schema: dict, ui: dict, pointer: str) -> None:
        widget = ui.get("ui:widget")
        if widget is not None:
            self.check_widget(schema, widget, join(pointer, "ui:widget"))
        for key in TEXT_KEYS:
            if key in ui and not is_text(ui[key]):
                self.problem(
                    join(pointer, key), _('Write a text, or one per language: {"zh-CN": …, "en": …}.')
                )
        names = ui.get("ui:enumNames")
        if names is not None and not (isinstance(names, list) and all(is_text(n) for n in names)):
            self.problem(join(pointer, "ui:enumNames"), _("ui:enumNames must be a list of texts."))
        options = ui.get("ui:options")
        if options is not None:
            self.check_options(options, join(pointer, "ui:options"))

    def check_widget(self, schema: dict, widget: Any, pointer: str) -> None:
        if not isinstance(widget, str) or lookup(widget) is None:
            known = ", ".join(sorted([*WIDGETS, *ALIASES]))
            self.problem(pointer, _("Unknown widget %(name)s (known: %(known)s).", name=widget, known=known))
            return
        entry = lookup(widget)
        kind = primary_type(schema)
        has_choices = (
            "enum" in schema
            or bool(schema.get("oneOf") or schema.get("anyOf"))
            or kind in ("boolean", "array")
        )
        if kind not in entry.types and not set(types_of(schema)) & entry.types:
            self.problem(
                pointer,
                _("The widget %(name)s cannot edit a value of type %(type)s.", name=widget, type=kind),
            )
        elif entry.choices and not has_choices:
            self.problem(
                pointer, _("The widget %(name)s needs options (enum or oneOf with const).", name=widget)
            )

    def check_order(self, properties: dict, order: Any, pointer: str) -> None:
        if order is None:
            return
        where = join(pointer, "ui:order")
        if not isinstance(order, list) or not all(isinstance(name, str) for name in order):
            self.problem(where, _("ui:order must be a list of field names."))
            return
        for index, name in enumerate(order):
            if name != "*" and name not in properties:
                self.problem(
                    join(where, index), _("ui:order names “%(name)s”, which is not a field here.", name=name)
                )
        missing = [name for name in properties if name not in order]
        if missing and "*" not in order:
            self.problem(
                where, _('ui:order leaves out %(names)s; list them or add "*".', names=", ".join(missing))
            )

    def check_options(self, options: Any, pointer: str) -> None:
        if not isinstance(options, dict):
            self.problem(pointer, _("ui:options must be a JSON object."))
            return
        rows = options.get("rows")
        if rows is not None and not (
            isinstance(rows, int) and not isinstance(rows, bool) and 0 < rows <= 100
        ):
            self.problem(join(pointer, "rows"), _("rows must be a whole number from 1 to 100."))
        size = options.get("maxSize")
        if size is not None and not (isinstance(size, int) and not isinstance(size, bool) and size > 0):
            self.problem(join(pointer, "maxSize"), _("maxSize must be a positive number of bytes."))
        accept = options.get("accept")
        if accept is not None and not (
            isinstance(accept, str) or (isinstance(accept, list) and all(isinstance(a, str) for a in accept))
        ):
            self.problem(join(pointer, "accept"), _("accept must be a text or a list of texts."))
