"""The corpus of business forms (tests/forms/corpus/*.json): validation agrees with plain
jsonschema, errors point into the instance, and every value has its named input."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from forms.browser_post import field_names
from forms.forms_support import (
    FORM_TAGS,
    corpus_files,
    leaf_groups,
    load_case,
    resolves,
    tags_in,
    texts_with_markup,
)
from jsonschema import Draft202012Validator

from formflow import forms

FILES = corpus_files()
CASES = {path.stem: load_case(path) for path in FILES}


def instances(*kinds: str):
    return [
        pytest.param(name, kind, index, id=f"{name}-{kind}{index}")
        for kind in kinds
        for name, case in CASES.items()
        for index in range(len(case[kind]))
    ]


def reference_verdict(schema, instance) -> bool:
    checker = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return checker.is_valid(instance)


def test_the_corpus_is_big_enough_and_well_formed():
    assert len(CASES) >= 15
    for name, case in CASES.items():
        assert set(case) == {"name", "schema", "uiSchema", "valid", "invalid"}, name
        assert case["valid"] and case["invalid"], name
        Draft202012Validator.check_schema(case["schema"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_definitions_pass_the_engines_own_checks(name, zh):
    case = CASES[name]
    assert forms.check_schema(case["schema"]) == []
    assert forms.check_ui_schema(case["schema"], case["uiSchema"]) == []


@pytest.mark.parametrize(("name", "kind", "index"), instances("valid", "invalid"))
def test_verdict_equals_plain_jsonschema(name, kind, index, zh):
    case = CASES[name]
    instance = case[kind][index]
    expected = reference_verdict(case["schema"], instance)
    assert expected is (kind == "valid"), f"the corpus mislabels {name} {kind}[{index}]"
    errors = forms.validate(case["schema"], instance)
    assert (errors == []) is expected, errors


@pytest.mark.parametrize(("name", "kind", "index"), instances("invalid"))
def test_every_error_points_into_the_instance(name, kind, index, zh):
    instance = CASES[name]["invalid"][index]
    errors = forms.validate(CASES[name]["schema"], instance)
    assert errors
    for error in errors:
        assert set(error) <= {"pointer", "message", "field"}
        assert error["message"].strip()
        assert resolves(instance, error["pointer"]), error
        if "field" in error:  # a missing property: the pointer is its (existing) parent object
            assert error["field"].rsplit("/", 1)[0] == error["pointer"]
            assert not resolves(instance, error["field"]), error


@pytest.mark.parametrize("name", sorted(CASES))
def test_render_has_a_named_input_for_every_value(name, zh):
    case = CASES[name]
    instance = case["valid"][0]
    html = forms.render(case["schema"], case["uiSchema"], instance)
    names = field_names(html)
    for group in leaf_groups(instance):
        assert group & names, f"no input named {sorted(group)} in {sorted(names)}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_render_leaves_nothing_unescaped(name, zh):
    case = CASES[name]
    html = str(forms.render(case["schema"], case["uiSchema"], case["valid"][0]))
    assert tags_in(html) <= FORM_TAGS
    for text in texts_with_markup([case["schema"], case["uiSchema"], case["valid"][0]]):
        assert text not in html, f"{text!r} appears unescaped"
    known = "|".join(FORM_TAGS)
    assert not re.search(rf"<(?!/?({known})\b)", html)


# --- the corpus covers every feature the forms engine renders ------------------------------


def _walk(document, path=()):
    """(path, dict) for every object in a JSON document."""
    if isinstance(document, dict):
        yield path, document
        for key, value in document.items():
            yield from _walk(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _walk(value, (*path, index))


def _object_depth(schema, defs) -> int:
    """How many object levels nest under this schema (properties inside properties…)."""
    if isinstance(schema, dict) and "$ref" in schema:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if not isinstance(schema, dict) or "properties" not in schema:
        return 0
    return 1 + max((_object_depth(sub, defs) for sub in schema["properties"].values()), default=0)


def _features(case) -> set[str]:
    found: set[str] = set()
    schema, ui = case["schema"], case["uiSchema"]
    refs: dict[str, int] = {}
    for _, node in _walk(schema):
        for kind in node.get("type", []) if isinstance(node.get("type"), list) else [node.get("type")]:
            found.add(f"type:{kind}")
        if isinstance(node.get("type"), list) and "null" in node["type"]:
            found.add("nullable")
        found.update(
            f"keyword:{k}"
            for k in ("$defs", "allOf", "if", "then", "else", "dependentRequired", "dependentSchemas")
            if k in node
        )
        found.update(f"keyword:{k}" for k in ("default", "const", "readOnly") if k in node)
        if node.get("additionalProperties") is False:
            found.add("additionalProperties:false")
        if node.get("multipleOf") == Decimal("0.01"):
            found.add("money")
        if "format" in node:
            found.add(f"format:{node['format']}")
        if "$ref" in node:
            refs[node["$ref"]] = refs.get(node["$ref"], 0) + 1
        for combinator in ("anyOf", "oneOf"):
            alternatives = node.get(combinator) or []
            if alternatives and all(a.get("type") == "object" for a in alternatives):
                found.add(f"{combinator}:objects")
            if alternatives and all("const" in a for a in alternatives):
                found.add("oneOf-const")
        items = node.get("items")
        if node.get("type") == "array" and isinstance(items, dict):
            target = schema.get("$defs", {}).get(items.get("$ref", "").rsplit("/", 1)[-1], items)
            if target.get("type") == "object" and "minItems" in node and "maxItems" in node:
                found.add("rows:minItems+maxItems")
    if any(count >= 2 for count in refs.values()):
        found.add("$ref:used-twice")
    if _object_depth(schema, schema.get("$defs", {})) >= 4:  # the root + 3 nested levels
        found.add("nested:3-levels")
    for path, node in _walk(ui):
        widget = node.get("ui:widget")
        if widget:
            found.add(f"widget:{widget}")
            field = _schema_at(schema, [p for p in path if p != "items"])
            if field is not None and widget in ("select", "radio"):
                if "enum" in field:
                    found.add(f"enum-as-{widget}")
                if field.get("oneOf") and all("const" in a for a in field["oneOf"]):
                    found.add(f"oneOf-const-as-{widget}")
            if field is not None and widget == "checkboxes" and field.get("type") == "array":
                found.add("array-of-enum-as-checkboxes")
        if isinstance(node.get("ui:order"), list) and "*" in node["ui:order"]:
            found.add("ui:order-with-star")
        if "ui:title" in node:
            found.add("ui:title:" + ("dict" if isinstance(node["ui:title"], dict) else "string"))
        found.update(k for k in ("ui:help", "ui:placeholder", "ui:disabled", "ui:readonly") if k in node)
        if isinstance(node.get("ui:options"), dict):
            found.update(f"ui:options:{k}" for k in node["ui:options"])
    return found


def _schema_at(schema, names):
    """The property schema a uiSchema path names, looking through $ref, allOf, then/else,
    dependentSchemas and array items (None when it cannot be found)."""
    current = schema
    for name in names:
        if current is None:
            return None
        if "$ref" in current:
            current = schema["$defs"][current["$ref"].rsplit("/", 1)[-1]]
        if current.get("type") == "array" and isinstance(current.get("items"), dict):
            current = current["items"]
            if "$ref" in current:
                current = schema["$defs"][current["$ref"].rsplit("/", 1)[-1]]
        places = [current, *current.get("allOf", []), current.get("then", {}), current.get("else", {})]
        places += list(current.get("dependentSchemas", {}).values())
        current = next((p["properties"][name] for p in places if name in p.get("properties", {})), None)
    return current


EXPECTED_FEATURES = {
    *(f"type:{t}" for t in ("string", "number", "integer", "boolean", "object", "array")),
    "enum-as-select", "enum-as-radio", "oneOf-const-as-select", "oneOf-const-as-radio",
    "array-of-enum-as-checkboxes", "money",
    *(f"format:{f}" for f in ("date", "date-time", "time", "email", "uri")),
    "nested:3-levels", "rows:minItems+maxItems", "keyword:$defs", "$ref:used-twice",
    "keyword:allOf", "anyOf:objects", "oneOf:objects", "keyword:if", "keyword:then", "keyword:else",
    "keyword:dependentRequired", "keyword:dependentSchemas", "keyword:default", "keyword:const",
    "keyword:readOnly", "nullable", "additionalProperties:false",
    "ui:order-with-star",
    *(f"widget:{w}" for w in ("text", "textarea", "select", "radio", "checkbox", "checkboxes", "date",
                              "password", "hidden", "updown", "range", "file")),
    "ui:title:string", "ui:title:dict", "ui:help", "ui:placeholder", "ui:disabled", "ui:readonly",
    *(f"ui:options:{o}" for o in ("rows", "inline", "accept", "maxSize")),
}  # fmt: skip


def test_the_corpus_covers_every_rendering_feature():
    covered = set().union(*(_features(case) for case in CASES.values()))
    assert EXPECTED_FEATURES - covered == set()
