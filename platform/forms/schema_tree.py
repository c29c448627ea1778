"""From JSON Schema + uiSchema + the current data to a tree of what the form shows.

The tree is rebuilt for each request (cheap); it decides which fields exist right now:
`$ref`s followed, `allOf` folded, the `if/then/else` branch and `dependentSchemas` that
apply to the current data merged in, the chosen `anyOf`/`oneOf` alternative, one row per
array item. Rendering, parsing and the read-only view all walk this one tree."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from referencing import Registry
from referencing.jsonschema import DRAFT202012

from formflow.forms.choice_options import choice_options, const_options, is_multi_choice, nullable_alternative
from formflow.forms.nodes import MISSING, Node
from formflow.forms.pointers import join
from formflow.forms.schema_keywords import merge, primary_type, types_of
from formflow.forms.texts import localized, spec_language
from formflow.forms.validation import exact
from formflow.forms.validation import validator as validator_for

MAX_DEPTH = 24  # a recursive schema renders only as deep as its data goes, up to this
ROOT_URI = "urn:formflow:form"
_COMBINATORS = ("allOf", "if", "then", "else", "dependentSchemas", "$ref")


class Tree:
    """Builds nodes for one schema; `rows` and `selections` come from a posted form."""

    def __init__(
        self,
        schema: dict,
        ui_schema: dict | None = None,
        *,
        rows: dict[str, int] | None = None,
        selections: dict[str, int] | None = None,
        fill_defaults: bool = False,
    ):
        self.schema = schema if isinstance(schema, dict) else {}
        self.ui_schema = ui_schema if isinstance(ui_schema, dict) else {}
        self.rows = rows or {}
        self.selections = selections or {}
        self.fill_defaults = fill_defaults
        self.layout_drivers: set[str] = set()
        self.language = spec_language()  # looked up once, not per field
        #: True once the tree depended on the data (a condition, a dependency, a choice):
        #: then a parse must rebuild it from what it read.
        self.data_dependent = False

    @cached_property
    def resolver(self):
        resource = DRAFT202012.create_resource(self.schema)
        # relative $refs resolve against the schema's own $id, and resources bundled in it
        # by $id (2020-12 compound documents) are found by crawling
        registry = Registry().with_resource(ROOT_URI, resource).crawl()
        return registry.resolver(base_uri=resource.id() or ROOT_URI)

    @cached_property
    def validator(self):
        return validator_for(self.schema)

    # --- schema resolution ------------------------------------------------------------

    def deref(self, schema: Any, depth: int = 0) -> dict:
        """Follow `$ref` (sibling keywords kept, as 2020-12 allows)."""
        if schema is True or not isinstance(schema, dict):
            return {}
        while "$ref" in schema and depth < MAX_DEPTH:
            target = self.resolver.lookup(schema["$ref"]).contents
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = merge(target if isinstance(target, dict) else {}, rest)
            depth += 1
        return schema

    def effective(self, schema: Any, data: Any, pointer: str, depth: int = 0) -> dict:
        """The schema that applies to `data` now: refs, allOf, if/then/else, dependencies."""
        schema = self.deref(schema)
        if depth > MAX_DEPTH:
            return schema
        result = {k: v for k, v in schema.items() if k not in _COMBINATORS}
        for part in schema.get("allOf", []) or []:
            result = merge(result, self.effective(part, data, pointer, depth + 1))
        if "if" in schema and ("then" in schema or "else" in schema):
            self.data_dependent = True
            self._note_drivers(schema["if"], pointer)
            branch = "then" if self.holds(schema["if"], data) else "else"
            if branch in schema:
                result = merge(result, self.effective(schema[branch], data, pointer, depth + 1))
        for name, dependent in (schema.get("dependentSchemas") or {}).items():
            self.data_dependent = True
            self.layout_drivers.add(join(pointer, name))
            if isinstance(data, dict) and name in data:
                result = merge(result, self.effective(dependent, data, pointer, depth + 1))
        return result

    def holds(self, schema: Any, data: Any) -> bool:
        instance = {} if data is MISSING else exact(data)
        return self.validator.evolve(schema=exact(schema)).is_valid(instance)

    def _note_drivers(self, condition: Any, pointer: str) -> None:
        condition = self.deref(condition)
        for name in list((condition.get("properties") or {}).keys()) + list(condition.get("required") or []):
            self.layout_drivers.add(join(pointer, name))
        for part in condition.get("allOf", []) or []:
            self._note_drivers(part, pointer)

    # --- nodes ----------------------------------------------------------------------

    def build(self, data: Any = MISSING) -> Node:
        node = self.node(self.schema, self.ui_schema, "", data, required=True, depth=0)
        for each in node.walk():
            if each.pointer in self.layout_drivers:
                each.drives_layout = True
        return node

    def node(self, schema: Any, ui: Any, pointer: str, data: Any, *, required: bool, depth: int) -> Node:
        ui = ui if isinstance(ui, dict) else {}
        if data is MISSING and self.fill_defaults:
            raw_default = self.deref(schema).get("default", MISSING)
            data = raw_default
        schema = self.effective(schema, data, pointer)
        node = Node(pointer=pointer, kind="field", schema=schema, ui=ui, value=data, required=required)
        language = self.language
        node.title = localized(ui.get("ui:title"), language) or localized(schema.get("title"), language)
        node.help = localized(ui.get("ui:help"), language)
        node.description = localized(ui.get("ui:description"), language) or localized(
            schema.get("description"), language
        )
        node.readonly = bool(schema.get("readOnly")) or bool(ui.get("ui:readonly"))
        node.disabled = bool(ui.get("ui:disabled"))

        alternatives = schema.get("oneOf") or schema.get("anyOf")
        if alternatives and not const_options(alternatives):
            plain = nullable_alternative(alternatives, self)
            if plain is not None:
                merged = merge({k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}, plain)
                schema = node.schema = merge(merged, {"type": [*types_of(plain), "null"]})
            elif depth < MAX_DEPTH:
                return self._choice(node, alternatives, data, depth)
        kind = primary_type(schema)
        # an enum (or const) of objects or lists is one choice of whole values, not a group
        whole_value = "enum" in schema or "const" in schema
        if kind == "object" and not whole_value and depth < MAX_DEPTH:
            return self._object(node, data, depth)
        if (
            kind == "array"
            and not whole_value
            and not is_multi_choice(schema, ui, self)
            and depth < MAX_DEPTH
        ):
            return self._array(node, data, depth)
        return self._field(node, kind)

    def _object(self, node: Node, data: Any, depth: int) -> Node:
        node.kind = "object"
        properties = node.schema.get("properties") or {}
        required = set(node.schema.get("required") or [])
        values = data if isinstance(data, dict) else {}
        for name in ordered(list(properties), node.ui.get("ui:order")):
            child_ui = node.ui.get(name)
            child = self.node(
                properties[name],
                child_ui,
                join(node.pointer, name),
                values.get(name, MISSING),
                required=name in required,
                depth=depth + 1,
            )
            if not child.title:
                child.title = name
            node.children.append(child)
        return node

    def _array(self, node: Node, data: Any, depth: int) -> Node:
        node.kind = "array"
        schema = node.schema
        prefix = schema.get("prefixItems") or []
        node.min_items = int(schema.get("minItems", 0) or 0)
        node.max_items = schema.get("maxItems")
        node.fixed_rows = len(prefix)
        values = data if isinstance(data, list) else []
        count = self.rows.get(node.pointer)
        if count is None:
            count = len(values)
            if data is MISSING and self.fill_defaults:
                count = max(node.min_items, len(prefix))
        if node.max_items is None and schema.get("items") is False:
            node.max_items = len(prefix)
        item_ui = node.ui.get("items")
        for index in range(count):
            item_schema = prefix[index] if index < len(prefix) else schema.get("items", {})
            ui = item_ui[index] if isinstance(item_ui, list) and index < len(item_ui) else item_ui
            if isinstance(item_ui, list) and index >= len(item_ui):
                ui = node.ui.get("additionalItems")
            value = values[index] if index < len(values) else MISSING
            child = self.node(
                item_schema, ui, join(node.pointer, index), value, required=False, depth=depth + 1
            )
            node.children.append(child)
        return node

    def _choice(self, node: Node, alternatives: list, data: Any, depth: int) -> Node:
        node.kind = "choice"
        self.data_dependent = True
        base = {k: v for k, v in node.schema.items() if k not in ("oneOf", "anyOf")}
        options = [
            self.effective(merge(base, alternative), data, node.pointer) for alternative in alternatives
        ]
        node.alternatives = [
            localized(self.deref(alternative).get("title"), self.language) or f"#{index + 1}"
            for index, alternative in enumerate(alternatives)
        ]
        posted = self.selections.get(node.pointer)
        if posted is not None and 0 <= posted < len(options):
            node.selected = posted
        else:
            node.selected = next(
                (i for i, option in enumerate(options) if data is not MISSING and self.holds(option, data)),
                # none holds yet (just switched: only its "kind" const was posted back): the
                # alternative whose constants the data carries
                next((i for i, option in enumerate(options) if self._carries_constants(option, data)), 0),
            )
        chosen = self.node(
            merge(base, alternatives[node.selected]),
            node.ui,
            node.pointer,
            data,
            required=node.required,
            depth=depth + 1,
        )
        node.children = [chosen]
        return node

    def _carries_constants(self, schema: dict, data: Any) -> bool:
        """The data has every const-valued property of this alternative (a discriminator)."""
        properties = schema.get("properties") or {}
        constants = {
            name: sub
            for name, sub in properties.items()
            if isinstance(sub, dict) and "const" in self.deref(sub)
        }
        return (
            bool(constants)
            and isinstance(data, dict)
            and all(name in data and self.holds(sub, data[name]) for name, sub in constants.items())
        )

    def _field(self, node: Node, kind: str) -> Node:
        schema = node.schema
        types = types_of(schema)
        node.type = kind
        node.nullable = "null" in types
        if "const" in schema:
            node.constant = schema["const"]
            node.readonly = True
        node.options = choice_options(schema, node.ui, self)
        node.multiple = kind == "array"
        from formflow.forms.widgets import ALIASES, boolean_options, default_widget, lookup

        requested = widget_name(node.ui.get("ui:widget"))
        widget = lookup(requested)
        usable = widget is not None and (kind in widget.types) and (bool(node.options) or not widget.choices)
        if widget is not None and kind == "boolean" and widget.choices and not node.options:
            node.options, usable = boolean_options(node), True
        node.widget = ALIASES.get(requested, requested) if usable else default_widget(node)
        return node


# --- ui keywords -----------------------------------------------------------------


def widget_name(widget: Any) -> str:
    return widget if isinstance(widget, str) else ""


def ordered(names: list[str], order: Any) -> list[str]:
    """Apply ui:order ('*' stands for every property not named)."""
    if not isinstance(order, list) or not order:
        return names
    order = [name for name in order if isinstance(name, str)]
    named = [name for name in order if name != "*" and name in names]
    rest = [name for name in names if name not in named]
    if "*" not in order:
        return named + rest
    result: list[str] = []
    for name in order:
        if name == "*":
            result.extend(rest)
        elif name in names:
            result.append(name)
    return result
