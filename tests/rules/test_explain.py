"""`formflow.rules.explain`: a rule's evaluation read back from the engine's own trace."""

from __future__ import annotations

from decimal import Decimal

import pytest

from formflow.rules.explain import explain

TABLES = {
    "deduction_limits": {
        "keyColumn": "tier",
        "columns": ["tier", "dual_approval_above"],
        "rows": [["B", 10000], ["C", Decimal("2000.50")]],
    }
}
CONTEXT = {"data": {"amount": 3000, "items": [1, 2, 3], "kind": "refund"}, "customer": {"tier": "C"}}


@pytest.fixture
def en(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


ABOVE = {
    ">": [
        {"var": "data.amount"},
        {"lookup": ["deduction_limits", {"var": "customer.tier"}, "dual_approval_above"]},
    ]
}


def test_a_comparison_with_a_lookup_shows_what_it_read(en):
    out = explain(ABOVE, CONTEXT, TABLES)
    assert out["result"] is True
    assert "error" not in out
    assert out["reads"] == [
        {"path": "data.amount", "value": 3000},
        {"path": "customer.tier", "value": "C"},
        {"lookup": ["deduction_limits", "C", "dual_approval_above"], "value": Decimal("2000.50")},
    ]
    tree = out["tree"]
    assert tree["operator"] == ">" and tree["result"] is True
    assert tree["text"] == (
        "data.amount (3000) > lookup(deduction_limits, C, dual_approval_above) (2000.5) → true"
    )
    amount, lookup = tree["children"]
    assert (amount["operator"], amount["result"], amount["text"]) == ("var", 3000, "data.amount = 3000")
    assert lookup["operator"] == "lookup" and lookup["result"] == Decimal("2000.50")
    assert "$tables" not in str(out)


def test_an_if_names_the_condition_that_was_met(en):
    rule = {
        "if": [
            {">": [{"var": "data.amount"}, {"lookup": ["deduction_limits", "C", "dual_approval_above"]}]},
            2,
            1,
        ]
    }
    out = explain(rule, CONTEXT, TABLES)
    assert out["result"] == 2
    assert out["tree"]["operator"] == "if"
    assert out["tree"]["text"] == "condition 1 (true) is met → 2"
    (condition,) = out["tree"]["children"]
    assert condition["result"] is True and condition["operator"] == ">"
    assert {"lookup": ["deduction_limits", "C", "dual_approval_above"], "value": Decimal("2000.50")} in out[
        "reads"
    ]
    low = explain(rule, {"data": {"amount": 10}}, TABLES)
    assert low["result"] == 1 and low["tree"]["text"] == "no condition is met → 1"


def test_and_or_show_each_steps_result(en):
    rule = {
        "or": [{"==": [{"var": "data.kind"}, "gift"]}, {"and": [{">": [{"var": "data.amount"}, 100]}, True]}]
    }
    out = explain(rule, CONTEXT)
    assert out["result"] is True
    assert out["tree"]["text"] == "any of (false, true) → true"
    first, second = out["tree"]["children"]
    assert first["text"] == "data.kind (refund) == gift → false" and first["result"] is False
    assert second["operator"] == "and" and second["text"] == "all of (true, true) → true"
    assert out["reads"] == [{"path": "data.kind", "value": "refund"}, {"path": "data.amount", "value": 3000}]


def test_a_short_circuit_shows_what_was_not_evaluated(en):
    rule = {"and": [{"==": [{"var": "data.kind"}, "gift"]}, {">": [{"var": "data.amount"}, 100]}]}
    out = explain(rule, CONTEXT)
    assert out["result"] is False
    assert out["tree"]["text"] == "all of (false, …) → false"
    assert out["reads"] == [{"path": "data.kind", "value": "refund"}]


def test_a_reduce_shows_its_list_and_result(en):
    rule = {"reduce": [{"var": "data.items"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]}
    out = explain(rule, CONTEXT)
    assert out["result"] == 6
    assert out["reads"] == [{"path": "data.items", "value": [1, 2, 3]}]
    assert out["tree"]["operator"] == "reduce" and out["tree"]["text"] == "items combined over 3 items → 6"
    items, body = out["tree"]["children"]
    assert items["result"] == [1, 2, 3]
    assert body["operator"] == "+" and body["result"] == 6  # the last iteration's step


def test_an_error_rule_shows_its_error(en):
    out = explain({"/": [{"var": "data.amount"}, 0]}, CONTEXT)
    assert out["result"] is None
    assert "division by zero" in out["error"]
    assert out["tree"]["operator"] == "/"
    assert out["reads"] == [{"path": "data.amount", "value": 3000}]


def test_an_unreadable_rule_is_an_error_not_a_crash(en):
    out = explain('{"and": [', CONTEXT)
    assert out["result"] is None and out["tree"] is None and out["error"]
    deep: dict = {"var": "x"}
    for _ in range(200):
        deep = {"!": deep}
    assert explain(deep, CONTEXT)["error"]


def test_a_literal_rule(en):
    assert explain(True, CONTEXT) == {
        "result": True,
        "reads": [],
        "tree": {"operator": None, "text": "true", "result": True, "children": []},
    }


def test_the_words_follow_the_language(app):
    with app.test_request_context(headers={"Cookie": "lang=zh_CN"}):
        text = explain({"and": [True, {"var": "data.x"}]}, {"data": {"x": False}})["tree"]["text"]
    assert "all of" not in text
