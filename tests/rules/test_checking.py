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
def test_problems_point_into_the_rule(rule, pointer, message, app_ctx):
    problems = rules.check(rule, known_vars=KNOWN, tables=TABLES)
    assert [p["pointer"] for p in problems] == [pointer], problems
    assert message in problems[0]["message"]


def test_vars_inside_rows_and_parents_are_known(app_ctx):
    rule = {"and": [{"var": "data.items.0.method"}, {"var": "data"}, {"var": "customer"}]}
    assert rules.check(rule, known_vars=KNOWN) == []


def test_without_known_vars_any_var_is_accepted(app_ctx):
    assert rules.check({"var": "anything.at.all"}) == []
