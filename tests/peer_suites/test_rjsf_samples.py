"""The react-jsonschema-form playground samples (rjsf/*.json, Apache-2.0, see rjsf/SOURCE.txt)
rendered by `formflow.forms.render`: every leaf of a sample's formData that its schema
describes has an input named by its JSON Pointer (or by an ancestor's pointer, when one
input carries the whole value: checkboxes, a select of enum objects).

The samples are draft-07 (rjsf's default); the engine speaks 2020-12, so the two draft-07
keywords whose meaning changed are upgraded mechanically before rendering: `dependencies`
becomes `dependentRequired` / `dependentSchemas`, and array-form `items` + `additionalItems`
become `prefixItems` + `items`. Everything else (`definitions` refs included) is 2020-12 too.

Deliberately unsupported (UNSUPPORTED below lists what each such sample loses, and the test
checks it is exactly that, so a change in either direction shows up):
- free-form maps: keys matched by `additionalProperties`, `patternProperties` or
  `propertyNames` rather than named in `properties`. Formflow's forms are fixed business
  forms; a field exists because the spec names it (and a uiSchema can address it).
- a root that is not an object (a bare string or number): inputs are named by the
  pointer of their field, and the root's pointer is "", a name browsers never post.
Rendered with fallbacks (nothing lost, tested like the others): React components named in
the uiSchema (`ui:field` "geo", custom templates, `RatingWidget`, `toggle`, rjsf component
names such as `RadioWidget`): the engine ignores what it does not know and uses the field's
default widget; `check_ui_schema` reports those names when a spec is saved."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from forms.browser_post import browser_post, field_names
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from formflow import forms
from formflow.forms.pointers import join

SAMPLES = Path(__file__).parent / "rjsf"
FILES = sorted(SAMPLES.glob("*.json"))

UNSUPPORTED = {
    "additionalProperties": ({"/assKickCount"}, "a key allowed by additionalProperties, not a named field"),
    "patternProperties": ({"/assKickCount"}, "a key matched by patternProperties, not a named field"),
    "propertyNames": ({"/darkMode"}, "a free key (propertyNames + additionalProperties), not a named field"),
    "single": ({""}, "the root is a string: its input would be named '' (never posted)"),
    "fallback": ({""}, "the root is a bare value (no type): its input would be named ''"),
}


def upgrade(node):
    """draft-07 `dependencies` and tuple `items` as their 2020-12 keywords."""
    if isinstance(node, list):
        return [upgrade(item) for item in node]
    if not isinstance(node, dict):
        return node
    upgraded = {}
    for key, value in node.items():
        if key in ("const", "enum", "default", "examples"):
            upgraded[key] = value
        elif key == "dependencies" and isinstance(value, dict):
            required = {name: need for name, need in value.items() if isinstance(need, list)}
            schemas = {name: upgrade(need) for name, need in value.items() if not isinstance(need, list)}
            if required:
                upgraded["dependentRequired"] = required
            if schemas:
                upgraded["dependentSchemas"] = schemas
        elif key == "items" and isinstance(value, list):
            upgraded["prefixItems"] = upgrade(value)
            if "additionalItems" in node:
                upgraded["items"] = upgrade(node["additionalItems"])
        elif key == "additionalItems" and isinstance(node.get("items"), list):
            continue
        else:
            upgraded[key] = upgrade(value)
    return upgraded


def load(path: Path) -> dict:
    sample = json.loads(path.read_text(encoding="utf-8"))
    if sample["draft"] == "draft-07":
        sample["schema"] = upgrade(sample["schema"])
    return sample


# --- which leaves a schema describes (independent of the engine's own schema walking) --------


class Describer:
    """Follows properties, patternProperties, additionalProperties, items and prefixItems
    through $ref (with $id scopes), allOf, anyOf, oneOf, then/else and dependentSchemas:
    every branch counts as describing."""

    def __init__(self, schema):
        resource = DRAFT202012.create_resource(schema)
        registry = Registry().with_resource("urn:sample", resource).crawl()
        self.root = (schema, registry.resolver(base_uri=resource.id() or "urn:sample"))

    def expand(self, schema, resolver, depth=0):
        if not isinstance(schema, dict) or depth > 20:
            return []
        if "$id" in schema and depth:
            resolver = resolver.in_subresource(DRAFT202012.create_resource(schema))
        found = [(schema, resolver)]
        if "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            found += self.expand(resolved.contents, resolved.resolver, depth + 1)
        parts = [*schema.get("allOf", []), *schema.get("anyOf", []), *schema.get("oneOf", [])]
        parts += [schema[k] for k in ("then", "else") if k in schema]
        parts += list(schema.get("dependentSchemas", {}).values())
        for part in parts:
            found += self.expand(part, resolver, depth + 1)
        return found

    def leaves(self, data):
        return set(self._leaves([self.root], data, ""))

    def _leaves(self, schemas, data, pointer):
        expanded = [pair for schema, resolver in schemas for pair in self.expand(schema, resolver)]
        whole_value = any("enum" in schema or "const" in schema for schema, _ in expanded)
        if isinstance(data, dict) and not whole_value:
            for key, value in data.items():
                below = [
                    (schema["properties"][key], resolver)
                    for schema, resolver in expanded
                    if isinstance(schema.get("properties"), dict) and key in schema["properties"]
                ]
                if not below:  # keys not named by properties: patternProperties, additionalProperties
                    below = [
                        (sub, resolver)
                        for schema, resolver in expanded
                        for pattern, sub in (schema.get("patternProperties") or {}).items()
                        if re.search(pattern, key)
                    ]
                    below += [
                        (schema["additionalProperties"], resolver)
                        for schema, resolver in expanded
                        if isinstance(schema.get("additionalProperties"), dict)
                    ]
                if below:
                    yield from self._leaves(below, value, join(pointer, key))
        elif isinstance(data, list) and not whole_value:
            for index, value in enumerate(data):
                below = []
                for schema, resolver in expanded:
                    prefix = schema.get("prefixItems", [])
                    if index < len(prefix):
                        below.append((prefix[index], resolver))
                    elif isinstance(schema.get("items"), dict):
                        below.append((schema["items"], resolver))
                if below:
                    yield from self._leaves(below, value, join(pointer, index))
        else:
            yield pointer


def all_leaves(data, pointer=""):
    if isinstance(data, dict):
        return {leaf for key, value in data.items() for leaf in all_leaves(value, join(pointer, key))}
    if isinstance(data, list):
        return {leaf for index, value in enumerate(data) for leaf in all_leaves(value, join(pointer, index))}
    return {pointer}


def carried(pointer: str, names: set[str]) -> bool:
    """An input is named by the pointer, or by one of its ancestors (one input, whole value)."""
    while True:
        if pointer in names:
            return True
        if not pointer:
            return False
        pointer = pointer.rsplit("/", 1)[0]


# --- the tests --------------------------------------------------------------------------------


def test_all_samples_are_here():
    assert len(FILES) == 39
    assert (SAMPLES / "LICENSE.md").exists() and (SAMPLES / "SOURCE.txt").exists()


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_every_described_value_has_its_input(path, zh):
    sample = load(path)
    html = str(forms.render(sample["schema"], sample["uiSchema"], sample["formData"]))
    names = field_names(html)
    if sample["formData"] is None:  # a new form: it renders, with its fields
        assert names - {n for n in names if n.startswith("__")}
        return
    described = Describer(sample["schema"]).leaves(sample["formData"])
    lost = {leaf for leaf in described if not carried(leaf, names)}
    expected, _reason = UNSUPPORTED.get(path.stem, (set(), ""))
    assert lost == expected


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_what_a_browser_posts_back_parses(path, zh):
    sample = load(path)
    html = forms.render(sample["schema"], sample["uiSchema"], sample["formData"])
    parsed = forms.parse(sample["schema"], sample["uiSchema"], browser_post(html))
    assert parsed.errors == []
    assert parsed.command is None


def test_the_describer_skips_undescribed_data():
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"$ref": "#/$defs/b"}},
        "$defs": {"b": {"type": "object", "properties": {"c": {"type": "integer"}}}},
    }
    data = {"a": "x", "b": {"c": 1, "extra": 2}, "other": 3}
    assert Describer(schema).leaves(data) == {"/a", "/b/c"}
    schema["additionalProperties"] = {"type": "integer"}
    assert Describer(schema).leaves(data) == {"/a", "/b/c", "/other"}
    assert all_leaves(data) == {"/a", "/b/c", "/b/extra", "/other"}
