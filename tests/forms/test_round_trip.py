"""Render -> what a browser posts -> parse gives back the instance, exactly.

The rules for values a form cannot carry as written have tests of their own below; the
corpus instances state such values explicitly (every optional checkbox boolean, no empty
strings, no empty optional lists or objects, date-times in +08:00)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from forms.browser_post import browser_post
from forms.forms_support import corpus_files, decimals, load_case, same_json

from formflow import forms

CASES = {path.stem: load_case(path) for path in corpus_files()}
VALID = [
    pytest.param(name, index, id=f"{name}-valid{index}")
    for name, case in CASES.items()
    for index in range(len(case["valid"]))
]


def round_trip(schema, ui_schema, instance):
    html = forms.render(schema, ui_schema, instance)
    return forms.parse(schema, ui_schema, browser_post(html))


@pytest.mark.parametrize(("name", "index"), VALID)
def test_render_then_post_gives_back_the_instance(name, index, zh):
    case = CASES[name]
    instance = case["valid"][index]
    parsed = round_trip(case["schema"], case["uiSchema"], instance)
    assert parsed.errors == []
    assert parsed.command is None
    assert same_json(parsed.data, instance), (decimals(parsed.data), decimals(instance))
    assert forms.validate(case["schema"], parsed.data) == []


@pytest.mark.parametrize(("name", "index"), VALID)
def test_round_trip_in_english_too(name, index, en):
    case = CASES[name]
    instance = case["valid"][index]
    assert same_json(round_trip(case["schema"], case["uiSchema"], instance).data, instance)


@pytest.mark.parametrize(("name", "index"), VALID)
def test_round_trip_of_a_stored_record_keeps_it(name, index, zh):
    """Editing a stored record (`previous`): read-only fields come from it (or, when it lacks
    them, from the schema's default), the rest as posted."""
    case = CASES[name]
    instance = case["valid"][index]
    expected = dict(instance)
    for field, schema in case["schema"]["properties"].items():  # the corpus locks top-level fields only
        ui = case["uiSchema"].get(field, {})
        locked = schema.get("readOnly") or ui.get("ui:readonly") or ui.get("ui:disabled")
        if locked and field not in instance and "default" in schema:
            expected[field] = schema["default"]
    html = forms.render(case["schema"], case["uiSchema"], instance)
    parsed = forms.parse(case["schema"], case["uiSchema"], browser_post(html), previous=instance)
    assert parsed.errors == []
    assert same_json(parsed.data, expected)


def test_same_json_is_exact_and_strict():
    assert same_json({"a": 5, "b": [Decimal("1.50")]}, {"a": Decimal("5.0"), "b": [1.5]})
    assert not same_json({"a": Decimal("0.1")}, {"a": Decimal("0.10000000000000001")})
    assert not same_json({"a": True}, {"a": 1})
    assert not same_json({"a": "1"}, {"a": 1})
    assert not same_json({"a": 1}, {"a": 1, "b": None})


# --- values a form cannot carry as written: the rules --------------------------------------

PREFS = {
    "type": "object",
    "properties": {
        "paperless": {"type": "boolean", "title": "Paperless statements"},
        "channels": {"type": "array", "items": {"enum": ["sms", "email", "post"]}, "uniqueItems": True},
        "contacts": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
        "note": {"type": "string"},
        "remark": {"type": ["string", "null"]},
        "agent": {"type": "object", "properties": {"code": {"type": "string"}}},
        "called_at": {"type": "string", "format": "date-time"},
    },
}


def test_an_absent_optional_boolean_checkbox_comes_back_false(zh):
    parsed = round_trip(PREFS, {}, {})
    assert parsed.data["paperless"] is False


def test_empty_optional_values_come_back_absent(zh):
    instance = {"paperless": True, "channels": [], "contacts": [], "note": "", "remark": None, "agent": {}}
    assert round_trip(PREFS, {}, instance).data == {"paperless": True}


def test_a_required_nullable_field_left_empty_comes_back_null(zh):
    schema = {
        "type": "object",
        "required": ["remark"],
        "properties": {"remark": {"type": ["string", "null"]}},
    }
    assert round_trip(schema, {}, {"remark": None}).data == {"remark": None}


def test_checked_options_come_back_in_the_options_order(zh):
    parsed = round_trip(PREFS, {}, {"paperless": False, "channels": ["post", "sms"]})
    assert parsed.data["channels"] == ["sms", "post"]


def test_a_date_time_comes_back_in_business_time(zh):
    parsed = round_trip(PREFS, {}, {"paperless": False, "called_at": "2026-04-01T01:30:00Z"})
    assert parsed.data["called_at"] == "2026-04-01T09:30:00+08:00"


def test_an_empty_row_of_objects_is_kept_as_an_empty_object(zh):
    parsed = round_trip(PREFS, {}, {"paperless": False, "contacts": [{"name": "A"}, {}]})
    assert parsed.data["contacts"] == [{"name": "A"}, {}]
