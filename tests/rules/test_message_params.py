"""A validate rule's message names the numbers it is about: `{name}`s filled from the rule's
`params` (JSONLogic over the rule's context, per row inside repeating groups), an amount
with two places and grouping; the browser (static/js/rules.js) fills them the same way."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from formflow.processes.form_rules import apply_rules, param_text, rule_context
from formflow.tables import normalized

SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "multipleOf": 0.01},
        "count": {"type": "integer"},
        "lines": {
            "type": "array",
            "items": {"type": "object", "properties": {"price": {"type": "number", "multipleOf": 0.01}}},
        },
    },
}
LIMITS = {
    "key": "limits",
    "columns": [{"name": "tier", "type": "text"}, {"name": "max_single", "type": "money"}],
    "rows": [["A", 1234567.5], ["C", 5000]],
}
LIMIT = {"lookup": ["limits", {"var": "customer.tier"}, "max_single"]}
RULES = [
    {
        "id": "limit",
        "kind": "validate",
        "field": "/amount",
        "when": {"<=": [{"var": "data.amount"}, LIMIT]},
        "params": {"limit": LIMIT, "tier": {"var": "customer.tier"}, "asked": {"var": "data.amount"}},
        "message": {
            "zh-CN": "超过 {tier} 级上限 {limit} 元（{asked}）",
            "en": "{asked} is above {limit} ({tier})",
        },
    },
    {
        "id": "cheap-lines",
        "kind": "validate",
        "field": "/lines/*/price",
        "when": {"<": [{"var": "row.price"}, 100]},
        "params": {
            "price": {"var": "row.price"},
            "line": {"+": [{"var": "index"}, 1]},
            "nope": {"var": "x.y"},
        },
        "message": {"zh-CN": "第 {line} 行 {price} 元 {nope} {unknown}", "en": "Line {line}: {price} {nope}"},
    },
]
SPEC = {"form": {"schema": SCHEMA}, "rules": RULES, "tables": [LIMITS]}
DATA = {"amount": Decimal("6000.00"), "lines": [{"price": Decimal("5")}, {"price": Decimal("1500.5")}]}


def _messages(tier: str) -> dict[str, str]:
    context = rule_context(DATA, customer={"tier": tier})
    tables = {"limits": normalized(LIMITS)}
    _data, outcome = apply_rules(SPEC, DATA, context, tables=tables)
    return {error["pointer"]: error["message"] for error in outcome.errors}


def test_params_fill_the_message_in_the_users_language(app):
    with app.test_request_context(headers={"Cookie": "lang=zh_Hans_CN"}):
        found = _messages("C")
    assert found["/amount"] == "超过 C 级上限 5,000.00 元（6,000.00）"
    # per row: the row's own values; a param that reads nothing is "—"; an unknown {name} stays
    assert found["/lines/1/price"] == "第 2 行 1,500.50 元 — {unknown}"
    assert "/lines/0/price" not in found
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert _messages("C")["/amount"] == "6,000.00 is above 5,000.00 (C)"


def test_a_met_rule_fills_nothing(app):
    with app.test_request_context():
        assert "/amount" not in _messages("A")  # 6000 is within 1,234,567.50


@pytest.mark.parametrize(
    ("value", "money", "text"),
    [
        (5000, True, "5,000.00"),
        (1234567.5, True, "1,234,567.50"),
        (Decimal("12.345"), False, "12.35"),
        (3, False, "3"),
        (2.0, False, "2"),
        (0.5, False, "0.5"),
        (None, False, "—"),
        ("C", False, "C"),
        (True, False, "true"),
    ],
)
def test_param_text(value, money, text):
    assert param_text(value, money=money) == text


NODE = os.environ.get("FORMFLOW_NODE", "node")
STATIC = Path(__file__).resolve().parents[2] / "platform" / "static"
RUN = """
const fs = require("fs"), vm = require("vm"), path = require("path");
const sandbox = {console: console}; sandbox.window = sandbox; vm.createContext(sandbox);
for (const script of ["vendor/json-logic-js/logic.js", "js/rules.js"]) {
  vm.runInContext(fs.readFileSync(path.join(process.argv[1], script), "utf8"), sandbox);
}
sandbox.input = fs.readFileSync(0, "utf8");
process.stdout.write(vm.runInContext(`(function () {
  var given = JSON.parse(input), rules = Formflow.rules;
  rules.registerOperators(jsonLogic);
  var outcome = rules.run(given.rules, given.data, {context: given.context, tables: given.tables,
    isMoney: function (pointer) { return pointer === "/amount" || pointer === "/lines/*/price"; }});
  return JSON.stringify(outcome.validations.filter(function (v) { return !v.ok; })
    .map(function (v) { return {pointer: v.pointer, params: v.params}; }));
}())`, sandbox));
"""


def test_the_browser_fills_the_same_params():
    executable = shutil.which(NODE)
    if executable is None:
        pytest.skip("node is not installed")
    given = {
        "rules": RULES,
        "data": {"amount": 6000, "lines": [{"price": 5}, {"price": 1500.5}]},
        "context": {"customer": {"tier": "C"}},
        "tables": {"limits": normalized(LIMITS)},
    }
    result = subprocess.run(
        [executable, "-e", RUN, str(STATIC)],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        check=True,
    )
    failed = {item["pointer"]: item["params"] for item in json.loads(result.stdout)}
    assert failed["/amount"] == {"limit": "5,000.00", "tier": "C", "asked": "6,000.00"}
    assert failed["/lines/1/price"] == {"price": "1,500.50", "line": "2", "nope": "—"}
