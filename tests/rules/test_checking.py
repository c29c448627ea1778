"""`rules.check`: problems with JSON Pointers into the rule, before anything runs."""

from __future__ import annotations

import pytest

from formflow import rules

KNOWN = ["data.amount", "data.reason", "data.items.method", "customer.tier", "now"]
TABLES = {"deduction_limits": ["tier", "max_single", "monthly_cap"]}


def test_a_good_rule_has_no_problems(app_ctx):
    rule = {"and": [{">": [{"var": "data.amount"}, 0]}, {"lookup": ["deduction_limits", "B", "monthly_cap"]}]}
    assert rules.check(rule, known_vars=KNOWN, tables=TABLES) == []


@pytest.mark.parametrize(
    ("rule", "pointer", "message"),
    [
        ({"and": [True, {"nope": [1]}]}, "/and/1", "unknown operator `nope`"),
        (
            {"and": [True, {"==": [{"var": "data.amout"}, 1]}]},
            "/and/1/==/0/var",
            "did you mean “data.amount”",
        ),
        ({"var": ["customer.teir", "A"]}, "/var/0", "did you mean “customer.tier”"),
        ({"lookup": ["deduction_limit", "A", "max_single"]}, "/lookup/0", "did you mean “deduction_limits”"),
        ({"lookup": ["deduction_limits", "A", "max"]}, "/lookup/2", "Unknown column “max”"),
        ({"lookup": ["deduction_limits", "A"]}, "/lookup", "lookup takes 3 arguments, not 2."),
        ({"add_duration": ["2026-01-01", "30 days"]}, "/add_duration/1", "ISO 8601 duration"),
        ({"days_between": [5, "2026-01-01"]}, "/days_between/0", "Expected a date"),
        ({"money": ["ten"]}, "/money/0", "Expected a number"),
    ],
)
def test_problems_point_into_the_rule(rule, pointer, message, en):
    problems = rules.check(rule, known_vars=KNOWN, tables=TABLES)
    assert [p["pointer"] for p in problems] == [pointer], problems
    assert message in problems[0]["message"]


def test_vars_inside_rows_and_parents_are_known(app_ctx):
    rule = {"and": [{"var": "data.items.0.method"}, {"var": "data"}, {"var": "customer"}]}
    assert rules.check(rule, known_vars=KNOWN) == []


def test_without_known_vars_any_var_is_accepted(app_ctx):
    assert rules.check({"var": "anything.at.all"}) == []


@pytest.mark.parametrize(
    "rule",
    [
        {"map": [{"var": "data.items"}, {"var": "method"}]},
        {"some": [{"var": "data.items"}, {"==": [{"var": "method"}, "bank"]}]},
        {"reduce": [{"var": "data.items"}, {"cat": [{"var": "accumulator"}, {"var": "current.method"}]}, ""]},
        {"map": [{"filter": [{"var": "data.items"}, {"var": "method"}]}, {"var": ""}]},
        {"map": [{"merge": [[1, 2], [3]]}, {"var": "anything"}]},  # a computed list: items unknown
    ],
)
def test_vars_inside_iterators_read_the_items(rule, app_ctx):
    assert rules.check(rule, known_vars=KNOWN) == []


@pytest.mark.parametrize(
    ("rule", "pointer", "suggestion"),
    [
        ({"map": [{"var": "data.items"}, {"var": "metod"}]}, "/map/1/var", "“method”"),
        (
            {"reduce": [{"var": "data.items"}, {"+": [{"var": "accumulator"}, {"var": "current.metod"}]}, 0]},
            "/reduce/1/+/1/var",
            "“current.method”",
        ),
        ({"var": "data.items.metod"}, "/var", "“data.items.method”"),
    ],
)
def test_unknown_members_of_items_are_reported(rule, pointer, suggestion, app_ctx):
    problems = rules.check(rule, known_vars=KNOWN)
    assert [p["pointer"] for p in problems] == [pointer], problems
    assert suggestion in problems[0]["message"]


def test_a_listed_path_allows_what_lies_beneath_only_when_nothing_beneath_is_listed(app_ctx):
    known = [*KNOWN, "account"]
    assert rules.check({"var": "account.prepaid"}, known_vars=known) == []
    assert rules.check({"var": "data.amount.cents"}, known_vars=known) == []
    customer = rules.check({"var": "customer.teir"}, known_vars=[*known, "customer"])
    assert [p["pointer"] for p in customer] == ["/var"]
    assert [p["pointer"] for p in rules.check({"var": "data.items.nope"}, known_vars=known)] == ["/var"]


def test_var_paths_resolve_members_of_items(app_ctx):
    from formflow.rules.checking import var_paths

    rule = {
        "+": [
            {
                "reduce": [
                    {"var": "data.items"},
                    {"+": [{"var": "accumulator"}, {"var": "current.amount"}]},
                    0,
                ]
            },
            {"var": "data.amount"},
        ]
    }
    assert sorted(var_paths(rule)) == ["data.amount", "data.items", "data.items.amount"]
