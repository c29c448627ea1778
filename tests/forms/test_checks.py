"""`check_schema` / `check_ui_schema`: problems in a form definition, with exact pointers."""

from __future__ import annotations

import pytest

from formflow import forms

SCHEMA = {
    "type": "object",
    "$defs": {"money": {"type": "number", "multipleOf": 0.01}},
    "properties": {
        "amount": {"$ref": "#/$defs/money", "title": "Amount"},
        "note": {"type": "string"},
        "tier": {"type": "string", "enum": ["A", "B"]},
        "vip": {"type": "boolean"},
        "plan": {
            "type": "array",
            "items": {"type": "object", "properties": {"due_on": {"type": "string", "format": "date"}}},
        },
        "method": {"type": "string"},
    },
    "if": {"properties": {"method": {"const": "bank"}}},
    "then": {"properties": {"iban": {"type": "string"}}},
}


def pointers(problems):
    return [problem["pointer"] for problem in problems]


def test_a_good_schema_has_no_problems(zh):
    assert forms.check_schema(SCHEMA) == []


@pytest.mark.parametrize(
    ("broken", "pointer"),
    [
        ({"type": "object", "properties": {"amount": {"type": "money"}}}, "/properties/amount/type"),
        (
            {"type": "object", "properties": {"code": {"type": "string", "pattern": "C[0-9"}}},
            "/properties/code/pattern",
        ),
        (
            {"type": "object", "properties": {"n": {"type": "integer", "minimum": "0"}}},
            "/properties/n/minimum",
        ),
        ({"type": "object", "required": "amount"}, "/required"),
        ({"type": "object", "properties": {"a": {"enum": "A"}}}, "/properties/a/enum"),
        ({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}, "/properties/a/$ref"),
        ({"type": "object", "$defs": {"x": {"$ref": "#/nowhere"}}}, "/$defs/x/$ref"),
        ({"type": "array", "items": {"$ref": "other.json#/x"}}, "/items/$ref"),
    ],
)
def test_check_schema_points_at_the_problem(broken, pointer, en):
    problems = forms.check_schema(broken)
    assert pointers(problems) == [pointer]
    assert problems[0]["message"]


def test_check_schema_refuses_a_non_object(en):
    assert forms.check_schema("not a schema") != []


def test_a_good_ui_schema_has_no_problems(zh):
    ui = {
        "ui:order": ["note", "*"],
        "amount": {"ui:widget": "updown", "ui:title": {"zh-CN": "金额", "en": "Amount"}, "ui:help": "CNY"},
        "note": {"ui:widget": "textarea", "ui:options": {"rows": 3}},
        "tier": {"ui:widget": "radio", "ui:enumNames": ["甲", {"zh-CN": "乙", "en": "B"}]},
        "vip": {"ui:widget": "radio"},
        "plan": {"items": {"due_on": {"ui:widget": "date"}}, "ui:options": {"addable": True}},
        "iban": {"ui:placeholder": "6222…"},  # a field of the then branch
    }
    assert forms.check_ui_schema(SCHEMA, ui) == []


@pytest.mark.parametrize(
    ("ui", "pointer"),
    [
        ({"amount": {"ui:widget": "slider"}}, "/amount/ui:widget"),
        ({"amount": {"ui:widget": 7}}, "/amount/ui:widget"),
        ({"amount": {"ui:widget": "textarea"}}, "/amount/ui:widget"),
        ({"note": {"ui:widget": "checkbox"}}, "/note/ui:widget"),
        ({"note": {"ui:widget": "radio"}}, "/note/ui:widget"),
        ({"tier": {"ui:widget": "checkboxes"}}, "/tier/ui:widget"),
        ({"plan": {"items": {"due_on": {"ui:widget": "updown"}}}}, "/plan/items/due_on/ui:widget"),
        ({"ui:order": ["note", "amonut", "*"]}, "/ui:order/1"),
        ({"ui:order": "note"}, "/ui:order"),
        ({"ui:order": ["note", "amount"]}, "/ui:order"),
        ({"amonut": {"ui:widget": "updown"}}, "/amonut"),
        ({"plan": {"items": {"due": {}}}}, "/plan/items/due"),
        ({"note": "textarea"}, "/note"),
        ({"note": {"ui:options": {"rows": 0}}}, "/note/ui:options/rows"),
        ({"note": {"ui:options": {"rows": "3"}}}, "/note/ui:options/rows"),
        ({"note": {"ui:options": {"maxSize": -1}}}, "/note/ui:options/maxSize"),
        ({"note": {"ui:options": {"accept": 5}}}, "/note/ui:options/accept"),
        ({"note": {"ui:options": ["rows", 3]}}, "/note/ui:options"),
        ({"amount": {"ui:title": 5}}, "/amount/ui:title"),
        ({"amount": {"ui:help": {"zh-CN": 5}}}, "/amount/ui:help"),
        ({"tier": {"ui:enumNames": "A,B"}}, "/tier/ui:enumNames"),
    ],
)
def test_check_ui_schema_points_at_the_problem(ui, pointer, en):
    problems = forms.check_ui_schema(SCHEMA, ui)
    assert pointers(problems) == [pointer], problems
    assert problems[0]["message"]


def test_an_unknown_widget_message_names_it(en):
    [problem] = forms.check_ui_schema(SCHEMA, {"amount": {"ui:widget": "slider"}})
    assert "slider" in problem["message"]


def test_a_ui_schema_that_is_not_an_object_is_refused(en):
    assert pointers(forms.check_ui_schema(SCHEMA, ["amount"])) == [""]
    assert forms.check_ui_schema(SCHEMA, None) == []
