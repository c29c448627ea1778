"""Rule kinds over a form: visible, compute, required (per row), enable, validate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from formflow.processes.form_rules import apply_rules, known_vars, rule_context

SCHEMA = {
    "type": "object",
    "required": ["amount", "note"],
    "properties": {
        "amount": {"type": "number", "multipleOf": 0.01},
        "reason": {"enum": ["quality", "other"]},
        "note": {"type": "string"},
        "fee": {"type": "number", "multipleOf": 0.01, "readOnly": True},
        "total": {"type": "number", "multipleOf": 0.01},
        "count": {"type": "integer"},
        "approved_by": {"type": "string"},
        "instalments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"method": {"enum": ["bank", "cash"]}, "bank_account": {"type": "string"}},
            },
        },
    },
}
TABLES = [
    {
        "key": "limits",
        "keyColumn": "tier",
        "columns": ["tier", "max_single"],
        "rows": [["A", 500], ["B", 100]],
    }
]
RULES = [
    {
        "id": "total",
        "kind": "compute",
        "field": "/total",
        "value": {"+": [{"var": "data.amount"}, {"var": "data.fee"}]},
    },
    {"id": "fee", "kind": "compute", "field": "/fee", "value": {"*": [{"var": "data.amount"}, 0.06]}},
    {
        "id": "count",
        "kind": "compute",
        "field": "/count",
        "value": {"reduce": [{"var": "data.instalments"}, {"+": [{"var": "accumulator"}, 1]}, 0]},
    },
    {
        "id": "show-note",
        "kind": "visible",
        "field": "/note",
        "when": {"==": [{"var": "data.reason"}, "other"]},
    },
    {
        "id": "bank-account",
        "kind": "required",
        "field": "/instalments/*/bank_account",
        "when": {"==": [{"var": "row.method"}, "bank"]},
    },
    {
        "id": "approver-editable",
        "kind": "enable",
        "field": "/approved_by",
        "when": {"in": ["manager", {"var": "user.roles"}]},
    },
    {
        "id": "within-limit",
        "kind": "validate",
        "field": "/amount",
        "when": {
            "<=": [{"var": "data.amount"}, {"lookup": ["limits", {"var": "customer.tier"}, "max_single"]}]
        },
        "message": {"zh-CN": "超过该等级单笔上限", "en": "Above the tier's single limit"},
    },
]
SPEC = {"form": {"schema": SCHEMA}, "rules": RULES, "tables": TABLES}


def run(data, *, tier="B", roles=("staff",), previous=None, **options):
    context = rule_context(data, customer={"tier": tier}, user={"username": "u", "roles": list(roles)})
    return apply_rules(SPEC, data, context, previous=previous, **options)


def test_computes_run_in_dependency_order_and_money_is_rounded_half_up(app_ctx):
    data, outcome = run({"amount": Decimal("60.10"), "reason": "quality"})
    assert data["fee"] == Decimal("3.61")  # 3.606
    assert data["total"] == Decimal("63.71")  # reads fee, which ran first
    assert outcome.computed["/fee"] == Decimal("3.61")
    assert all(type(value) is Decimal for value in (data["fee"], data["total"]))


def test_a_hidden_field_is_dropped_and_not_required(app_ctx):
    data, outcome = run({"amount": 10, "reason": "quality", "note": "stale text"})
    assert "note" not in data and "/note" in outcome.hidden
    data, outcome = run({"amount": 10, "reason": "other", "note": "kept"})
    assert data["note"] == "kept" and not outcome.hidden


def test_required_if_applies_per_row(app_ctx):
    rows = [{"method": "bank"}, {"method": "cash"}, {"method": "bank", "bank_account": "6222"}]
    _data, outcome = run({"amount": 10, "instalments": rows})
    assert outcome.required == {"/instalments/0/bank_account", "/instalments/2/bank_account"}
    assert [e["pointer"] for e in outcome.errors] == ["/instalments/0/bank_account"]
    assert outcome.errors[0]["rule"] == "bank-account"


def test_a_field_not_enabled_keeps_its_previous_value(app_ctx):
    data, outcome = run({"amount": 1, "approved_by": "me!"}, previous={"approved_by": "wang"})
    assert data["approved_by"] == "wang" and "/approved_by" in outcome.disabled
    data, outcome = run(
        {"amount": 1, "approved_by": "li"}, roles=("manager",), previous={"approved_by": "wang"}
    )
    assert data["approved_by"] == "li" and not outcome.disabled


def test_a_validate_rule_reads_the_tier_threshold(app, app_ctx):
    _data, outcome = run({"amount": 150}, tier="B")
    assert outcome.errors == [{"pointer": "/amount", "message": "超过该等级单笔上限", "rule": "within-limit"}]
    _data, outcome = run({"amount": 150}, tier="A")
    assert outcome.errors == []
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert run({"amount": 150})[1].errors[0]["message"] == "Above the tier's single limit"


def test_drafts_skip_required_and_validate_rules(app_ctx):
    _data, outcome = run({"amount": 150, "instalments": [{"method": "bank"}]}, check_required=False,
                         check_validate=False)  # fmt: skip
    assert outcome.errors == [] and outcome.required == {"/instalments/0/bank_account"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"/": [{"var": "data.amount"}, 0]}, "division by zero"),
        ({"*": [{"var": "data.missing"}, "x"]}, "number"),
    ],
)
def test_a_compute_that_fails_is_an_error_at_its_field_naming_the_rule(value, message, en):
    spec = {
        "form": {"schema": SCHEMA},
        "rules": [{"id": "broken", "kind": "compute", "field": "/fee", "value": value}],
    }
    data, outcome = apply_rules(spec, {"amount": 5}, rule_context({"amount": 5}))
    assert "fee" not in data
    assert outcome.errors[0]["pointer"] == "/fee" and outcome.errors[0]["rule"] == "broken"
    assert "“broken”" in outcome.errors[0]["message"] and message in outcome.errors[0]["message"]


def test_a_computed_integer_must_be_whole(en):
    spec = {
        "form": {"schema": SCHEMA},
        "rules": [{"id": "c", "kind": "compute", "field": "/count", "value": 2.5}],
    }
    _data, outcome = apply_rules(spec, {}, rule_context({}))
    assert "not a whole number" in outcome.errors[0]["message"]


def test_known_vars_cover_fields_rows_and_context(app_ctx):
    names = known_vars(SPEC)
    for expected in ("data.amount", "data.instalments", "data.instalments.method", "row.bank_account",
                     "customer.tier", "user.roles", "now", "index"):  # fmt: skip
        assert expected in names
