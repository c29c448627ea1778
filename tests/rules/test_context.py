"""A rule's context written in one pass (`rules.context`): what the engine reads is what it
read when contexts were written by simplejson, and nesting is bounded without a walk."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import datalogic_py
import pytest
import simplejson
from flask_babel import lazy_gettext

from formflow import rules
from formflow.rules import context as rule_context


def _nested(levels: int, kind=dict):
    value: object = 1
    for _ in range(levels):
        value = {"a": value} if kind is dict else [value]
    return value


def _as_before(value):
    """What the engine read when the context was simplejson's text (Decimals digit for digit)."""
    return datalogic_py.DataHandle(simplejson.dumps(value, use_decimal=True))


@pytest.mark.parametrize(
    "number",
    [Decimal("5"), Decimal("5.00"), Decimal("0.1"), Decimal("1200.50"), Decimal("-0.005"),
     Decimal("12345678901234567.89"), Decimal("1E+2"), Decimal("0.30000000000000004441")],
)  # fmt: skip
def test_a_decimal_reaches_the_engine_exactly_as_its_text_did(number, app_ctx):
    context = {"data": {"amount": number, "items": [{"amount": number}]}}
    for rule in (
        {"var": "data.amount"},
        {"*": [{"var": "data.items.0.amount"}, 3]},
        {"===": [{"var": "data.amount"}, 5]},
    ):
        compiled = rules.compile(rule)
        got = compiled.evaluate(rules.prepare(context))
        assert json.dumps(got) == json.dumps(compiled.evaluate(_as_before(context))), (number, rule)
    assert rule_context.text({"x": number}) == '{"x":' + str(number) + "}"


def test_dates_uuids_and_lazy_texts_are_written_as_text(en):
    identifier = uuid.UUID("12345678-1234-5678-1234-567812345678")
    written = json.loads(
        rule_context.text(
            {"d": date(2026, 12, 3), "t": datetime(2026, 12, 3, 8, 30, tzinfo=UTC), "u": identifier,
             "l": lazy_gettext("Validation")}
        )
    )  # fmt: skip
    assert written == {
        "d": "2026-12-03",
        "t": "2026-12-03T08:30:00+00:00",
        "u": str(identifier),
        "l": "Validation",
    }
    assert rules.evaluate({"days_between": [{"var": "d"}, "2026-12-10"]}, {"d": date(2026, 12, 3)}) == 7


def test_keys_that_are_not_text_and_ints_beyond_64_bits_are_written_as_json_writes_them(app_ctx):
    assert rules.evaluate({"var": "m.3"}, {"m": {3: "three"}}) == "three"
    assert rules.evaluate({">": [{"var": "n"}, 1e20]}, {"n": 10**30}) is True


def test_a_number_that_is_not_finite_is_refused_with_a_sentence(en):
    with pytest.raises(rules.RuleError, match="not finite"):
        rules.prepare({"data": {"amount": Decimal("NaN")}})


def test_data_as_deep_as_the_bound_is_read_and_one_level_more_is_refused(en):
    deepest = _nested(rule_context.MAX_DATA_DEPTH - 1)
    assert rules.evaluate({"var": "a.a.a"}, {"a": deepest["a"]}) is not None
    with pytest.raises(rules.RuleError, match="nested more than 254 levels"):
        rules.prepare(_nested(rule_context.MAX_DATA_DEPTH + 1, list))


def test_data_twenty_thousand_deep_is_refused_without_crashing_the_process(en):
    # datalogic-py crashes the process (segfault) converting a Python dict this deep
    for kind in (dict, list):
        with pytest.raises(rules.RuleError, match="nested more than"):
            rules.prepare({"data": _nested(20_000, kind)})
    with pytest.raises(rules.RuleError, match="nested more than"):
        rules.prepare({"data": {"n": 10**30, "deep": _nested(20_000)}})  # the rarer path too


def test_fragments_written_once_are_embedded_as_they_are(app_ctx):
    shared = rule_context.fragment({"tier": "B", "limit": Decimal("20000.00")})
    for row in ({"amount": 1}, {"amount": 2}):
        prepared = rules.prepare({"customer": shared, "row": row})
        assert (
            rules.evaluate({"+": [{"var": "customer.limit"}, {"var": "row.amount"}]}, prepared)
            == 20000 + row["amount"]
        )


def test_tables_are_indexed_once_per_tables_object_and_new_tables_are_seen(app_ctx):
    rule = {"lookup": ["t", "A", "v"]}
    first = {"t": {"keyColumn": "k", "columns": ["k", "v"], "rows": [["A", 1]]}}
    assert rule_context.tables_fragment(first) is rule_context.tables_fragment(first)
    assert rules.evaluate(rule, {}, tables=first) == 1
    second = {"t": {"keyColumn": "k", "columns": ["k", "v"], "rows": [["A", 2]]}}
    assert rules.evaluate(rule, {}, tables=second) == 2


def test_a_value_the_engine_cannot_hold_is_a_type_error_not_a_crash(app_ctx):
    with pytest.raises(TypeError):
        rules.prepare({"x": object()})


def test_the_compile_cache_is_keyed_by_the_rule_as_written_so_a_rule_changed_in_place_is_compiled_anew(
    app_ctx,
):
    rule = {"+": [{"var": "a"}, 1]}
    first = rules.compile(rule)
    assert rules.compile({"+": [{"var": "a"}, 1]}) is first
    rule["+"][1] = 2
    assert rules.compile(rule) is not first
    assert rules.evaluate(rule, {"a": 1}) == 3
    assert rules.compile({"+": [{"var": "a"}, Decimal("1")]}).evaluate({"a": 1}) == 2


@pytest.mark.parametrize("text", ["ascii", "中文"])
def test_a_plain_dict_is_read_the_same_whether_its_text_is_ascii_or_not(text, en):
    data = {"name": text, "items": [{"v": 1}, {"v": 2.5}], "when": date(2026, 12, 3), "id": uuid.UUID(int=7)}
    assert rules.evaluate({"cat": [{"var": "name"}, "-", {"var": "items.1.v"}]}, data) == f"{text}-2.5"
    assert rules.evaluate({"var": "when"}, data) == "2026-12-03"  # a date: the text path
    assert rules.evaluate({"var": "id"}, data) == str(uuid.UUID(int=7))
    with pytest.raises(rules.RuleError, match="nested more than"):
        rules.evaluate({"var": "name"}, {"name": text, "deep": _nested(20_000)})
