"""`forms.validate` beyond the corpus: exact decimals, schemas holding Decimal, pointers."""

from __future__ import annotations

import warnings
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from formflow import forms

MONEY = {"type": "number", "multipleOf": 0.01}


@pytest.mark.parametrize("amount", [0.29, 1.15, 4.35, 1234567.89, Decimal("0.29"), Decimal("10.10"), 7])
def test_money_is_a_multiple_of_a_cent_exactly(amount, zh):
    # with floats 0.29 / 0.01 == 28.999999999999996: plain arithmetic would refuse these
    assert forms.validate(MONEY, amount) == []


@pytest.mark.parametrize("amount", [0.291, Decimal("1.005"), 1e-9])
def test_fractions_of_a_cent_are_refused(amount, zh):
    assert len(forms.validate(MONEY, amount)) == 1


def test_a_schema_holding_decimals_validates_numbers_as_numbers(en):
    # specs read with exact JSON hold Decimal; the validator cache must not turn them to text
    schema = {
        "type": "object",
        "properties": {
            "rate": {"enum": [Decimal("0"), Decimal("0.06"), Decimal("0.13")]},
            "discount": {"type": "number", "maximum": Decimal("0.5"), "multipleOf": Decimal("0.01")},
        },
    }
    assert forms.validate(schema, {"rate": Decimal("0.06"), "discount": Decimal("0.25")}) == []
    assert forms.validate(schema, {"rate": 0.06, "discount": 0.5}) == []
    errors = forms.validate(schema, {"rate": Decimal("0.07"), "discount": Decimal("0.51")})
    assert errors == [
        {"pointer": "/discount", "message": "Must be at most 0.5."},
        {"pointer": "/rate", "message": "Choose one of: 0, 0.06, 0.13."},
    ]


def test_a_whole_decimal_is_an_integer(zh):
    assert forms.validate({"type": "integer"}, Decimal("5.00")) == []
    assert forms.validate({"type": "integer"}, 5.0) == []
    assert forms.validate({"type": "integer"}, Decimal("5.01")) != []


def test_errors_inside_rows_point_at_the_row_field(en):
    schema = {
        "type": "object",
        "properties": {
            "plan": {"type": "array", "items": {"type": "object", "properties": {"amount": MONEY}}},
        },
    }
    errors = forms.validate(schema, {"plan": [{"amount": 1}, {"amount": 1.001}]})
    assert errors == [{"pointer": "/plan/1/amount", "message": "Use at most two decimal places."}]


def test_an_alternative_reports_what_its_closest_branch_says(en):
    schema = {
        "oneOf": [
            {
                "type": "object",
                "required": ["iban"],
                "properties": {"iban": {"type": "string", "minLength": 12}},
            },
            {"type": "object", "required": ["wallet"], "properties": {"wallet": {"type": "string"}}},
        ]
    }
    assert forms.validate(schema, {"iban": "123"}) == [
        {"pointer": "/iban", "message": "Enter at least 12 characters."}
    ]


def test_unknown_fields_are_reported_one_by_one(en):
    schema = {"type": "object", "properties": {"a": {}}, "additionalProperties": False}
    assert forms.validate(schema, {"a": 1, "b": 2, "c": 3}) == [
        {"pointer": "/b", "message": "Unknown field: b."},
        {"pointer": "/c", "message": "Unknown field: c."},
    ]


def test_reading_choices_raises_no_wtforms_deprecation_warning(zh):
    schema = {
        "type": "object",
        "properties": {
            "tier": {"enum": ["A", "B"]},
            "plan": {"enum": ["m", "y"]},
            "tags": {"type": "array", "items": {"enum": ["x", "y"]}},
        },
    }
    ui = {"plan": {"ui:widget": "radio"}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = forms.parse(schema, ui, MultiDict([("/tier", "B"), ("/plan", "y"), ("/tags", "x")]))
    assert parsed.data == {"tier": "B", "plan": "y", "tags": ["x"]}


def test_a_float_const_is_read_as_a_decimal(zh):
    schema = {"type": "object", "properties": {"rate": {"const": 0.05}}}
    data = forms.parse(schema, {}, MultiDict()).data
    assert data == {"rate": Decimal("0.05")} and isinstance(data["rate"], Decimal)


def test_an_alternative_chosen_by_its_kind_reports_its_own_problems(en):
    schema = {
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"kind": {"const": "person"}, "name": {"type": "string"}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"kind": {"const": "company"}, "tax_id": {"type": "string", "minLength": 18}},
            },
        ]
    }
    # not "Unknown field: tax_id" from the person branch the user did not choose
    assert forms.validate(schema, {"kind": "company", "tax_id": "123"}) == [
        {"pointer": "/tax_id", "message": "Enter at least 18 characters."}
    ]
    assert forms.validate(schema, {"kind": "person", "tax_id": "123"}) == [
        {"pointer": "/tax_id", "message": "Unknown field: tax_id."}
    ]


def test_unique_items_over_many_unsortable_items_is_one_pass(app_ctx):
    """Issue: 5,000 objects took 33 s (pairwise comparison); now hashed canonical values."""
    import threading

    many = [{"row": i, "tags": [i, str(i)]} for i in range(5000)]
    verdicts = []
    worker = threading.Thread(
        target=lambda: verdicts.append(forms.validate({"uniqueItems": True}, many)), daemon=True
    )
    worker.start()
    worker.join(10)  # a hang detector, not a speed target (make bench measures speed)
    assert verdicts == [[]]
    assert forms.validate({"uniqueItems": True}, [*many, {"tags": [4999, "4999"], "row": 4999}]) != []
    assert forms.validate({"uniqueItems": True}, [1, Decimal("1.00")]) != []  # equal numbers
    assert forms.validate({"uniqueItems": True}, [True, 1, None, False, 0]) == []  # true is not 1
