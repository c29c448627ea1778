"""Checking a spec's rules at save/import: the meta-schema of `rules` and `tests`, then each
rule's JSONLogic, fields, tables and compute cycles, every problem with the JSON Pointer that
reaches into the spec."""

from __future__ import annotations

import copy
import json

import pytest

from formflow.errors import Invalid
from formflow.processes import services
from formflow.processes.services import check_spec

SCHEMA = {
    "type": "object",
    "required": ["amount"],
    "properties": {
        "amount": {"type": "number", "title": "Amount", "multipleOf": 0.01},
        "reason": {"type": "string", "enum": ["quality", "other"]},
        "reason_note": {"type": "string"},
        "fee": {"type": "number", "multipleOf": 0.01, "readOnly": True},
        "total": {"type": "number", "multipleOf": 0.01, "readOnly": True},
        "count": {"type": "integer", "readOnly": True},
        "instalments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "method": {"type": "string"},
                    "amount": {"type": "number"},
                    "bank_account": {"type": "string"},
                    "share": {"type": "number"},
                },
            },
        },
    },
}
TABLES = [
    {
        "key": "deduction_limits",
        "keyColumn": "tier",
        "columns": ["tier", "max_single", "monthly_cap"],
        "rows": [["A", 50000, 200000], ["B", 20000, 80000]],
    }
]
MESSAGE = {"zh-CN": "超过上限", "en": "Above the limit"}


def ruled(rules: list, *, tests: list | None = None, tables: list | None = None) -> dict:
    return {
        "formflow": 1,
        "key": "ruled",
        "category": "deduction",
        "name": {"zh-CN": "规则", "en": "Ruled"},
        "form": {"schema": copy.deepcopy(SCHEMA)},
        "rules": copy.deepcopy(rules),
        "tables": copy.deepcopy(TABLES if tables is None else tables),
        "tests": copy.deepcopy(tests or []),
    }


def validate(when, field="/amount", rule_id="limit") -> dict:
    return {"id": rule_id, "kind": "validate", "field": field, "when": when, "message": MESSAGE}


def compute(rule_id, field, value) -> dict:
    return {"id": rule_id, "kind": "compute", "field": field, "value": value}


def _pointers(errors: list[dict]) -> list[str]:
    return [error["pointer"] for error in errors]


GOOD_RULES = [
    {
        "id": "show-note",
        "kind": "visible",
        "field": "/reason_note",
        "when": {"==": [{"var": "data.reason"}, "other"]},
    },
    validate(
        {
            "<=": [
                {"var": "data.amount"},
                {"lookup": ["deduction_limits", {"var": "customer.tier"}, "max_single"]},
            ]
        }
    ),
    {
        "id": "bank-account",
        "kind": "required",
        "field": "/instalments/*/bank_account",
        "when": {"==": [{"var": "row.method"}, "bank"]},
    },
    {
        "id": "first-fixed",
        "kind": "enable",
        "field": "/instalments/*/amount",
        "when": {">": [{"var": "index"}, 0]},
    },
    compute("fee", "/fee", {"*": [{"var": "data.amount"}, 0.06]}),
    compute("total", "/total", {"+": [{"var": "data.amount"}, {"var": "data.fee"}]}),
    compute(
        "count", "/count", {"reduce": [{"var": "data.instalments"}, {"+": [{"var": "accumulator"}, 1]}, 0]}
    ),
    validate(
        {
            "==": [
                {
                    "reduce": [
                        {"var": "data.instalments"},
                        {"+": [{"var": "accumulator"}, {"var": "current.amount"}]},
                        0,
                    ]
                },
                {"var": "data.amount"},
            ]
        },
        field="/instalments",
        rule_id="adds-up",
    ),
    validate(
        {"all": [{"var": "data.instalments"}, {">": [{"var": "amount"}, 0]}]}, "/instalments", "positive"
    ),
]


def test_good_rules_have_no_problems(english):
    assert check_spec(ruled(GOOD_RULES)) == []


# --- the meta-schema ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "pointer", "message"),
    [
        (
            {"id": "Bad Id", "kind": "visible", "field": "/amount", "when": True},
            "/rules/0/id",
            "lowercase letters",
        ),
        ({"id": "r", "field": "/amount", "when": True}, "/rules/0", "kind is required."),
        (
            {"id": "r", "kind": "hidden", "field": "/amount", "when": True},
            "/rules/0/kind",
            "validate, visible",
        ),
        ({"id": "r", "kind": "visible", "when": True}, "/rules/0", "field is required."),
        ({"id": "r", "kind": "visible", "field": "amount", "when": True}, "/rules/0/field", "JSON Pointer"),
        ({"id": "r", "kind": "visible", "field": "/amount"}, "/rules/0", "when is required."),
        (
            {"id": "r", "kind": "validate", "field": "/amount", "when": True},
            "/rules/0",
            "message is required.",
        ),
        (
            {"id": "r", "kind": "validate", "field": "/amount", "when": True, "message": {"zh-CN": "超"}},
            "/rules/0/message",
            "en is required.",
        ),
        ({"id": "r", "kind": "compute", "field": "/fee"}, "/rules/0", "value is required."),
        (
            {"id": "r", "kind": "compute", "field": "/fee", "value": 1, "when": True},
            "/rules/0/when",
            "when does not belong in a compute rule.",
        ),
        (
            {"id": "r", "kind": "visible", "field": "/amount", "when": True, "value": 1},
            "/rules/0/value",
            "value does not belong in a visible rule.",
        ),
        (
            {"id": "r", "kind": "visible", "field": "/amount", "when": True, "message": MESSAGE},
            "/rules/0/message",
            "does not belong",
        ),
        (
            {"id": "r", "kind": "visible", "field": "/amount", "when": True, "on": 1},
            "/rules/0/on",
            "Unknown member on",
        ),
        ("not a rule", "/rules/0", "Must be an object."),
    ],
)
def test_meta_schema_points_at_the_bad_part_of_a_rule(english, rule, pointer, message):
    errors = check_spec(ruled([rule]))
    assert _pointers(errors) == [pointer], errors
    assert message in errors[0]["message"]


@pytest.mark.parametrize(
    ("test", "pointer", "message"),
    [
        ({"context": {}, "expect": {}}, "/tests/0", "name is required."),
        (
            {"name": "t", "context": {"data": {}, "tier": "A"}, "expect": {}},
            "/tests/0/context/tier",
            "Unknown member",
        ),
        ({"name": "t", "context": {"data": []}, "expect": {}}, "/tests/0/context/data", "Must be an object."),
        (
            {"name": "t", "context": {}, "expect": {"vaild": True}},
            "/tests/0/expect/vaild",
            "Unknown member vaild",
        ),
        ({"name": "t", "context": {}, "expect": {"valid": "yes"}}, "/tests/0/expect/valid", "true or false"),
        (
            {"name": "t", "context": {}, "expect": {"visible": {"amount": True}}},
            "/tests/0/expect/visible/amount",
            "JSON Pointer",
        ),
        (
            {"name": "t", "context": {}, "expect": {"required": {"/amount": "yes"}}},
            "/tests/0/expect/required/~1amount",
            "true or false",
        ),
        (
            {"name": "t", "context": {}, "expect": {"errors": ["/amount", "/amount"]}},
            "/tests/0/expect/errors",
            "",
        ),
        (
            {"name": "t", "context": {}, "expect": {"visible": {"/amont": True}}},
            "/tests/0/expect/visible/~1amont",
            "did you mean /amount",
        ),
        (
            {"name": "t", "context": {}, "expect": {"errors": ["/instalments/0/amout"]}},
            "/tests/0/expect/errors/0",
            "No form field",
        ),
    ],
)
def test_meta_schema_and_fields_of_tests(english, test, pointer, message):
    errors = check_spec(ruled(GOOD_RULES, tests=[test]))
    assert _pointers(errors) == [pointer], errors
    assert message in errors[0]["message"]


def test_a_test_may_name_rows_and_approvals_for_later(english):
    test = {
        "name": "rows and approvals",
        "context": {"data": {"amount": 1}, "customer": {"tier": "A"}, "now": "2026-11-20T09:00:00+08:00"},
        "expect": {
            "valid": True,
            "required": {"/instalments/0/bank_account": False},
            "approvals_required": 2,
        },
    }
    assert check_spec(ruled(GOOD_RULES, tests=[test])) == []


# --- each rule's JSONLogic, pointers into the spec ------------------------------------------


@pytest.mark.parametrize(
    ("rules", "pointer", "message"),
    [
        ([validate({"and": [True, {"frob": [1]}]})], "/rules/0/when/and/1", "unknown operator `frob`"),
        (
            [validate({"and": [True, {"<=": [{"var": "data.amont"}, 5]}]})],
            "/rules/0/when/and/1/<=/0/var",
            "Unknown field or context value “data.amont”; did you mean “data.amount”?",
        ),
        (
            [validate({"==": [{"var": "customer.teir"}, "A"]})],
            "/rules/0/when/==/0/var",
            "did you mean “customer.tier”",
        ),
        (
            [validate({"<": [{"var": "data.amount"}, {"lookup": ["deduction_limit", "A", "max_single"]}]})],
            "/rules/0/when/</1/lookup/0",
            "Unknown table “deduction_limit”; did you mean “deduction_limits”?",
        ),
        (
            [validate({"<": [{"var": "data.amount"}, {"lookup": ["deduction_limits", "A", "max_singel"]}]})],
            "/rules/0/when/</1/lookup/2",
            "Unknown column “max_singel”; did you mean “max_single”?",
        ),
        (
            [validate({"<": [{"var": "data.amount"}, {"lookup": ["deduction_limits", "A"]}]})],
            "/rules/0/when/</1/lookup",
            "lookup takes 3 arguments, not 2.",
        ),
        (
            [compute("fee", "/fee", {"money": [1, 2]})],
            "/rules/0/value/money",
            "money takes 1 arguments, not 2.",
        ),
        (
            [
                validate(
                    {
                        "==": [
                            {
                                "reduce": [
                                    {"var": "data.instalments"},
                                    {"+": [{"var": "accumulator"}, {"var": "current.amout"}]},
                                    0,
                                ]
                            },
                            1,
                        ]
                    },
                    "/instalments",
                )
            ],
            "/rules/0/when/==/0/reduce/1/+/1/var",
            "did you mean “current.amount”",
        ),
        (
            [
                validate(
                    {"some": [{"var": "data.instalments"}, {"==": [{"var": "methd"}, "bank"]}]},
                    "/instalments",
                )
            ],
            "/rules/0/when/some/1/==/0/var",
            "did you mean “method”",
        ),
    ],
)
def test_rule_problems_point_into_the_spec(english, rules, pointer, message):
    errors = check_spec(ruled(rules))
    assert _pointers(errors) == [pointer], errors
    assert message in errors[0]["message"]


def test_a_missing_table_is_reported_when_the_spec_has_no_tables(english):
    rule = validate({"<": [{"var": "data.amount"}, {"lookup": ["deduction_limits", "A", "max_single"]}]})
    errors = check_spec(ruled([rule], tables=[]))
    assert _pointers(errors) == ["/rules/0/when/</1/lookup/0"]
    assert "Unknown table “deduction_limits”" in errors[0]["message"]


def test_duplicate_rule_id(english):
    rules = [*GOOD_RULES, {"id": "show-note", "kind": "visible", "field": "/reason", "when": True}]
    errors = check_spec(ruled(rules))
    assert errors == [
        {
            "pointer": f"/rules/{len(GOOD_RULES)}/id",
            "message": "Another rule (/rules/0) already has the id “show-note”.",
        }
    ]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("/reason_not", "No form field /reason_not; did you mean /reason_note?"),
        ("/nothing_like_it", "No form field /nothing_like_it."),
        ("/instalments/0/bank_account", "Use * for the row: /instalments/*/bank_account."),
        ("/instalments/*/bank_acount", "did you mean /instalments/*/bank_account?"),
    ],
)
def test_a_field_that_names_no_form_field(english, field, message):
    errors = check_spec(ruled([{"id": "r", "kind": "visible", "field": field, "when": True}]))
    assert _pointers(errors) == ["/rules/0/field"]
    assert message in errors[0]["message"]


def test_row_and_index_only_in_rules_on_rows(english):
    rule = {
        "id": "r",
        "kind": "visible",
        "field": "/reason_note",
        "when": {"==": [{"var": "row.method"}, "bank"]},
    }
    errors = check_spec(ruled([rule]))
    assert _pointers(errors) == ["/rules/0/when/==/0/var"]
    assert "inside a repeating group" in errors[0]["message"]


def test_a_row_rule_reads_its_own_rows_members(english):
    rule = {
        "id": "r",
        "kind": "required",
        "field": "/instalments/*/bank_account",
        "when": {"==": [{"var": "row.metod"}, "bank"]},
    }
    errors = check_spec(ruled([rule]))
    assert _pointers(errors) == ["/rules/0/when/==/0/var"]
    assert "did you mean “row.method”" in errors[0]["message"]


CYCLE = "The compute rules depend on each other in a cycle: "


def test_a_cycle_among_compute_rules_is_spelled_out_at_each_rule(english):
    rules = [
        compute("fee", "/fee", {"*": [{"var": "data.total"}, 0.06]}),
        compute("total", "/total", {"+": [{"var": "data.amount"}, {"var": "data.fee"}]}),
        compute("count", "/count", 1),
    ]
    assert check_spec(ruled(rules)) == [
        {
            "pointer": "/rules/0/value",
            "message": CYCLE + "fee (/fee) → total (/total) → fee (/fee).",
        },
        {
            "pointer": "/rules/1/value",
            "message": CYCLE + "total (/total) → fee (/fee) → total (/total).",
        },
    ]


def test_a_cycle_through_the_rows_of_a_list(english):
    rules = [
        compute(
            "total",
            "/total",
            {
                "reduce": [
                    {"var": "data.instalments"},
                    {"+": [{"var": "accumulator"}, {"var": "current.share"}]},
                    0,
                ]
            },
        ),
        compute("share", "/instalments/*/share", {"/": [{"var": "row.amount"}, {"var": "data.total"}]}),
    ]
    assert _pointers(check_spec(ruled(rules))) == ["/rules/0/value", "/rules/1/value"]


def test_a_compute_that_reads_its_own_field(english):
    errors = check_spec(ruled([compute("fee", "/fee", {"+": [{"var": "data.fee"}, 1]})]))
    assert errors == [
        {"pointer": "/rules/0/value", "message": "This compute rule reads the field it computes (/fee)."}
    ]


def test_two_compute_rules_for_one_field(english):
    errors = check_spec(ruled([compute("fee", "/fee", 1), compute("fee-again", "/fee", 2)]))
    assert errors == [
        {"pointer": "/rules/1/field", "message": "Rule “fee” (/rules/0) already computes this field."}
    ]


def test_every_problem_at_once(english):
    rules = [
        validate({"frob": [1]}),
        {"id": "r", "kind": "visible", "field": "/nope", "when": True},
        validate(True, rule_id="limit"),
        {"id": "BAD", "kind": "visible", "field": "/amount", "when": {"var": "data.nope"}},
    ]
    assert sorted(_pointers(check_spec(ruled(rules)))) == [
        "/rules/0/when",
        "/rules/1/field",
        "/rules/2/id",
        "/rules/3/id",
    ]


def test_a_broken_form_is_reported_without_noise_about_rules(english):
    spec = ruled([{"id": "r", "kind": "visible", "field": "/nope", "when": True}])
    spec["form"]["schema"]["type"] = 5
    assert all(pointer.startswith("/form") for pointer in _pointers(check_spec(spec)))


# --- through the doors: import, edit, the CLI -----------------------------------------------


def test_import_refuses_a_spec_with_a_bad_rule(english):
    with pytest.raises(Invalid) as refused:
        services.import_spec(ruled([validate({"==": [{"var": "data.amont"}, 1]})]))
    assert _pointers(refused.value.errors) == ["/rules/0/when/==/0/var"]


def test_api_import_answers_422_with_pointers(app, make_user):
    from formflow.auth import services as users

    make_user("api-admin", roles=["admin"])
    with app.app_context():
        plain, _token = users.create_token(users.find_user("api-admin"), "t")
        from formflow.extensions import db

        db.session.commit()
    response = app.test_client().post(
        "/api/v1/processes",
        json=ruled([validate({"<": [1, {"lookup": ["deduction_limits", "A", "nope"]}]})]),
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert response.status_code == 422
    assert [error["pointer"] for error in response.json["errors"]] == ["/rules/0/when/</1/lookup/2"]


def test_cli_check_prints_rule_pointers(cli, tmp_path):
    path = tmp_path / "ruled.json"
    path.write_text(json.dumps(ruled([validate({"and": [True, {"frob": [1]}]})])), encoding="utf-8")
    result = cli("check", str(path))
    assert result.exit_code == 1
    assert f"{path}:/rules/0/when/and/1: unknown operator `frob`" in result.output.splitlines()


# --- a validate rule's message params -------------------------------------------------------

LIMIT = {"lookup": ["deduction_limits", {"var": "customer.tier"}, "max_single"]}


def with_params(params, message=None) -> dict:
    rule = validate({"<=": [{"var": "data.amount"}, LIMIT]})
    rule["params"] = params
    rule["message"] = message or {
        "zh-CN": "超过 {tier} 级上限 {limit} 元",
        "en": "Above {limit} for tier {tier}",
    }
    return rule


def test_message_params_that_are_sound_have_no_problems(english):
    assert check_spec(ruled([with_params({"limit": LIMIT, "tier": {"var": "customer.tier"}})])) == []


@pytest.mark.parametrize(
    ("params", "message", "pointers", "words"),
    [
        (  # a placeholder without a param, in each language that uses it
            {"limit": LIMIT},
            None,
            ["/rules/0/message/zh-CN", "/rules/0/message/en"],
            "{tier}",
        ),
        (  # a misspelt one: did you mean
            {"limit": LIMIT, "tier": {"var": "customer.tier"}},
            {"zh-CN": "超过 {limt} 元", "en": "Above {limit}"},
            ["/rules/0/message/zh-CN"],
            "did you mean {limit}",
        ),
        (  # a param's JSONLogic is checked like the rule's own, pointing into it
            {"limit": {"lookup": ["deduction_limits", {"var": "customer.tier"}, "max_singel"]}, "tier": "C"},
            None,
            ["/rules/0/params/limit/lookup/2"],
            "max_single",
        ),
        (
            {"limit": LIMIT, "tier": {"var": "customer.teir"}},
            None,
            ["/rules/0/params/tier/var"],
            "customer.tier",
        ),
    ],
)
def test_message_params_problems_point_into_the_spec(english, params, message, pointers, words):
    errors = check_spec(ruled([with_params(params, message)]))
    assert _pointers(errors) == pointers, errors
    assert all(words in error["message"] for error in errors), errors


def test_params_belong_in_validate_rules_only(english):
    rule = {"id": "note", "kind": "visible", "field": "/reason_note", "when": True, "params": {"a": 1}}
    errors = check_spec(ruled([rule]))
    assert _pointers(errors) == ["/rules/0/params"], errors
    bad_name = with_params({"no good": LIMIT})
    assert "/rules/0/params/no good" in _pointers(check_spec(ruled([bad_name])))
