"""`formflow.rules`: evaluation, compile cache, prepared contexts and safety limits."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from formflow import rules

TABLES = {
    "deduction_limits": {
        "keyColumn": "tier",
        "columns": ["tier", "max_single", "dual_approval_above"],
        "rows": [["A", 50000, 20000], ["B", 20000, 10000], ["C", 5000, Decimal("2000.50")]],
    }
}
WITHIN_LIMIT = {
    "<=": [{"var": "data.amount"}, {"lookup": ["deduction_limits", {"var": "customer.tier"}, "max_single"]}]
}


@pytest.mark.parametrize(
    ("amount", "tier", "expected"), [(4999, "C", True), (5000.01, "C", False), (20000, "B", True)]
)
def test_a_lookup_threshold(amount, tier, expected, app_ctx):
    context = {"data": {"amount": amount}, "customer": {"tier": tier}}
    assert rules.evaluate(WITHIN_LIMIT, context, tables=TABLES) is expected


def test_decimal_data_and_cells_are_read_exactly(app_ctx):
    context = {"data": {"amount": Decimal("2000.51")}, "customer": {"tier": "C"}}
    rule = {">": [{"var": "data.amount"}, {"lookup": ["deduction_limits", "C", "dual_approval_above"]}]}
    assert rules.evaluate(rule, context, tables=TABLES) is True


def test_compiled_once_and_reused(app_ctx):
    assert rules.compile(WITHIN_LIMIT) is rules.compile(dict(WITHIN_LIMIT))
    compiled = rules.compile({"+": [{"var": "a"}, 1]})
    assert compiled.evaluate({"a": 2}) == 3
    assert compiled.facts()["reads"] == [["a"]]


def test_a_prepared_context_serves_many_rules(app_ctx):
    context = rules.prepare({"data": {"items": [{"amount": 1.5}, {"amount": 2.5}]}})
    total = {"reduce": [{"var": "data.items"}, {"+": [{"var": "accumulator"}, {"var": "current.amount"}]}, 0]}
    assert rules.evaluate(total, context) == 4
    assert rules.evaluate({"var": "data.items.1.amount"}, context) == 2.5


def test_a_rule_nested_ten_thousand_deep_is_refused_quickly_without_crashing(en):
    rule = True
    for _ in range(10_000):
        rule = {"!": [rule]}
    started = time.perf_counter()
    with pytest.raises(rules.RuleError, match="nested more than"):
        rules.evaluate(rule, {})
    assert rules.check(rule)[0]["message"].startswith("The rule is nested more than")
    assert time.perf_counter() - started < 1


def test_a_rule_as_deep_json_text_is_refused_too(en):
    text = '{"!":' * 10_000 + "true" + "}" * 10_000
    with pytest.raises(rules.RuleError):
        rules.evaluate(text, {})


def test_deeply_nested_data_is_refused(en):
    data: dict = {}
    cursor = data
    for _ in range(10_000):
        cursor["a"] = {}
        cursor = cursor["a"]
    with pytest.raises(rules.RuleError, match="data is nested"):
        rules.evaluate({"var": "a"}, data)


def test_a_map_over_a_million_items_stops_within_a_second(en):
    context = rules.prepare({"xs": list(range(1_000_000))})
    started = time.perf_counter()
    with pytest.raises(rules.RuleError, match="too much work"):
        rules.evaluate({"map": [{"var": "xs"}, {"+": [{"var": ""}, 1]}]}, context)
    assert time.perf_counter() - started < 1


def test_a_run_time_failure_names_the_rule(en):
    with pytest.raises(rules.RuleError) as raised:
        rules.compile({"/": [{"var": "amount"}, {"var": "count"}]}).evaluate(
            {"amount": 5, "count": 0}, rule_id="fee"
        )
    assert raised.value.status == 422
    assert raised.value.errors[0]["message"].startswith("Rule “fee”: ")
    assert "division by zero" in raised.value.errors[0]["message"]


def test_malformed_rule_text_is_a_clear_error(en):
    with pytest.raises(rules.RuleError, match="not valid JSON"):
        rules.evaluate('{"==": [1, 1}', {})
