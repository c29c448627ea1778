"""Formflow's operators: lookup, dates, money."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formflow import rules

TABLES = {"fees": {"keyColumn": "plan", "columns": ["plan", "monthly"], "rows": [["basic", 99.9], [3, 10]]}}


def test_lookup_finds_the_row_or_gives_null(app_ctx):
    assert rules.evaluate({"lookup": ["fees", "basic", "monthly"]}, {}, tables=TABLES) == 99.9
    assert rules.evaluate({"lookup": ["fees", 3.0, "monthly"]}, {}, tables=TABLES) == 10
    assert rules.evaluate({"lookup": ["fees", "gold", "monthly"]}, {}, tables=TABLES) is None


def test_lookup_of_a_missing_table_or_column_is_refused_by_check_and_null_at_run_time(app_ctx):
    """Lookups run inside the engine as paths into the indexed tables (no callback): what
    names no table or column is refused when the spec is saved."""
    problems = rules.check({"lookup": ["nope", "basic", "monthly"]}, tables={"fees": ["plan", "monthly"]})
    assert [p["pointer"] for p in problems] == ["/lookup/0"]
    problems = rules.check({"lookup": ["fees", "basic", "yearly"]}, tables={"fees": ["plan", "monthly"]})
    assert [p["pointer"] for p in problems] == ["/lookup/2"]
    assert rules.evaluate({"lookup": ["nope", "basic", "monthly"]}, {}, tables=TABLES) is None


def test_a_lookup_key_computed_from_the_data(app_ctx):
    rule = {"lookup": ["fees", {"var": "plan"}, "monthly"]}
    assert rules.evaluate(rule, {"plan": "basic"}, tables=TABLES) == 99.9
    assert rules.evaluate(rule, {"plan": 3}, tables=TABLES) == 10


def test_today_is_the_business_date_or_the_one_given(app_ctx):
    assert rules.evaluate({"today": []}, {}, today=date(2026, 2, 28)) == "2026-02-28"
    assert len(rules.evaluate({"today": []}, {})) == 10


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"days_between": ["2026-01-01", "2026-03-01"]}, 59),
        ({"days_between": ["2026-03-01", "2026-01-01"]}, -59),
        ({"add_duration": ["2026-01-31", "P1M"]}, "2026-02-28"),
        ({"add_duration": ["2024-01-31", "P1M"]}, "2024-02-29"),
        ({"add_duration": ["2026-11-25", "P30D"]}, "2026-12-25"),
        ({"add_duration": ["2026-11-25", "P1Y2W"]}, "2027-12-09"),
        ({"date_before": ["2026-01-01", "2026-01-02"]}, True),
        ({"date_after": ["2026-01-01", "2026-01-02"]}, False),
        ({"date_before": [{"add_duration": [{"var": "start"}, "P30D"]}, {"today": []}]}, True),
    ],
)
def test_date_operators(rule, expected, app_ctx):
    assert rules.evaluate(rule, {"start": "2026-01-01"}, today=date(2026, 11, 25)) == expected


def test_a_bad_date_is_a_clear_error(app_ctx):
    with pytest.raises(rules.RuleError, match="not a date"):
        rules.evaluate({"days_between": ["soon", "2026-01-01"]}, {})


def test_money_rounds_half_up_to_the_cent(app_ctx):
    assert rules.evaluate({"money": {"+": [0.1, 0.2]}}, {}) == 0.3
    assert rules.to_money(2.675) == Decimal("2.68")  # the float 2.675 is 2.67499999…; we mean 2.675
    assert rules.to_money(Decimal("-1.005")) == Decimal("-1.01")


@given(
    st.lists(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False), min_size=1, max_size=20),
    st.decimals(min_value=0, max_value=1, places=4, allow_nan=False),
)
def test_no_float_artefact_reaches_an_amount(amounts, rate):
    """A fee computed by a rule comes out of the edge with exactly two places, within a cent
    of the exact half-up rounding (the engine itself computes in binary floating point)."""
    total = {"reduce": [{"var": "amounts"}, {"+": [{"var": "accumulator"}, {"var": "current"}]}, 0]}
    result = rules.to_money(
        rules.evaluate({"*": [total, {"var": "rate"}]}, {"amounts": amounts, "rate": rate})
    )
    exact = (sum(amounts) * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert result.as_tuple().exponent == -2
    assert abs(result - exact) <= Decimal("0.01")
