"""Checking specs: the meta-schema, the form's JSON Schema and uiSchema, JSON syntax; each
problem with the JSON Pointer of where it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formflow.errors import Invalid
from formflow.processes.services import check_spec, parse_spec_text, spec_sha256
from formflow.processes.spec import meta_schema

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _pointers(errors: list[dict]) -> list[str]:
    return [error["pointer"] for error in errors]


def test_a_good_spec_has_no_problems(english, make_spec):
    assert check_spec(make_spec()) == []


def test_missing_required_member_points_at_the_object_and_names_it(english, make_spec):
    spec = make_spec()
    del spec["name"]
    assert check_spec(spec) == [{"pointer": "", "message": "name is required."}]


def test_missing_language_of_a_name(english, make_spec):
    errors = check_spec(make_spec(name={"zh-CN": "扣款"}))
    assert errors == [{"pointer": "/name", "message": "en is required."}]


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_name_is_refused_once(english, make_spec, blank):
    errors = check_spec(make_spec(name={"zh-CN": "扣款", "en": blank}))
    assert errors == [{"pointer": "/name/en", "message": "Must not be empty."}]


def test_wrong_format_version(english, make_spec):
    assert check_spec(make_spec(formflow=2)) == [{"pointer": "/formflow", "message": "Must be 1."}]


@pytest.mark.parametrize("key", ["Deduction", "1abc", "a", "with-dash", "x" * 81, "中文"])
def test_bad_key_pattern(english, make_spec, key):
    errors = check_spec(make_spec(key=key))
    assert _pointers(errors) == ["/key"]
    assert "lowercase letter first" in errors[0]["message"]


def test_key_of_the_wrong_type(english, make_spec):
    assert check_spec(make_spec(key=5)) == [{"pointer": "/key", "message": "Must be a string."}]


def test_unknown_top_level_member_is_pointed_at(english, make_spec):
    errors = check_spec(make_spec(workflw={}))
    assert _pointers(errors) == ["/workflw"]
    assert "workflw" in errors[0]["message"] and "workflow" in errors[0]["message"]


def test_unknown_category(english, make_spec):
    errors = check_spec(make_spec(category="refund"))
    assert _pointers(errors) == ["/category"] and "management_fee" in errors[0]["message"]


def test_every_problem_is_reported_at_once(english, make_spec):
    spec = make_spec(formflow="1", key="Bad", rules={})
    del spec["form"]
    assert sorted(_pointers(check_spec(spec))) == ["", "/formflow", "/key", "/rules"]


def test_form_without_schema(english, make_spec):
    errors = check_spec(make_spec(form={"uiSchema": {}}))
    assert errors == [{"pointer": "/form", "message": "schema is required."}]


def test_not_an_object_at_all(english):
    assert check_spec([1, 2]) == [{"pointer": "", "message": "Must be an object."}]


def test_invalid_json_schema_points_into_the_form_schema(english, make_spec):
    errors = check_spec(make_spec(form={"schema": {"type": 5}}))
    assert "/form/schema/type" in _pointers(errors)


def test_form_schema_root_must_be_an_object(english, make_spec):
    errors = check_spec(make_spec(form={"schema": {"type": "string"}}))
    assert _pointers(errors) == ["/form/schema/type"]
    no_type = check_spec(make_spec(form={"schema": {"properties": {}}}))
    assert _pointers(no_type) == ["/form/schema"]


def test_unknown_widget_points_into_the_ui_schema(english, make_spec):
    spec = make_spec()
    spec["form"]["uiSchema"] = {"amount": {"ui:widget": "nope"}}
    assert "/form/uiSchema/amount/ui:widget" in _pointers(check_spec(spec))


def test_meta_schema_is_a_valid_2020_12_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(meta_schema())
    assert meta_schema()["additionalProperties"] is False


# --- parsing -------------------------------------------------------------------------------


def test_json_syntax_error_gives_line_and_column(english):
    with pytest.raises(Invalid) as raised:
        parse_spec_text('{\n  "formflow": 1,\n  "key" "x"\n}')
    [error] = raised.value.errors
    assert error["pointer"] == ""
    assert "line 3, column 9" in error["message"]


def test_duplicate_members_are_refused(english):
    with pytest.raises(Invalid) as raised:
        parse_spec_text('{"key": "a", "key": "b"}')
    assert "key" in raised.value.errors[0]["message"] and "twice" in raised.value.errors[0]["message"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [("", "empty"), ("[1]", "JSON object"), ('{"a": NaN}', "NaN"), (b"\xff\xfe{}", "UTF-8")],
)
def test_unreadable_texts(english, text, needle):
    with pytest.raises(Invalid) as raised:
        parse_spec_text(text, filename="x.json")
    assert needle in raised.value.errors[0]["message"]


def test_parsing_keeps_key_order_and_accepts_a_bom(app_ctx):
    spec = parse_spec_text('\ufeff{"b": 1, "a": 2}'.encode())
    assert list(spec) == ["b", "a"]


def test_hash_ignores_key_order_and_whitespace_but_not_content():
    assert spec_sha256({"a": 1, "b": "扣款"}) == spec_sha256(json.loads('{ "b" : "扣款", "a" : 1 }'))
    assert spec_sha256({"a": 1}) != spec_sha256({"a": 2})


# --- the templates we ship -----------------------------------------------------------------


def test_configs_exist():
    assert sorted(path.name for path in CONFIGS.glob("*.json"))


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.json")), ids=lambda path: path.name)
def test_every_shipped_template_passes_check(app_ctx, path):
    spec = parse_spec_text(path.read_bytes(), filename=path.name)
    assert check_spec(spec) == []
    assert path.stem == spec["key"], "name each template file after its key"
