"""Schema patterns (issue: `^(a+)+$` passed `check`, then took seconds per submit, doubling
with each character): they run on RE2 in linear time, and `check` refuses patterns that a
backtracking validator would hang on, and those RE2 cannot run."""

from __future__ import annotations

import pytest
from support import finishes

from formflow.forms import check_schema, validate
from formflow.forms.patterns import pattern_problem, search

EVIL = "a" * 40_000 + "!"


@pytest.mark.parametrize("pattern", ["^(a+)+$", "(a*)*!x", "^(a|a+)*$", "(x+x+)+y", "^(a*b*)*$"])
def test_a_catastrophic_pattern_is_refused_at_check_and_harmless_at_run_time(app_ctx, pattern):
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": pattern}}}
    [problem] = check_schema(schema)
    assert problem["pointer"] == "/properties/code/pattern"
    outcome = []
    assert finishes(lambda: outcome.append(validate(schema, {"code": EVIL})))
    assert [error["pointer"] for error in outcome[0]] == ["/code"]


def test_pattern_properties_names_are_checked_and_matched_in_linear_time(app_ctx):
    schema = {"type": "object", "patternProperties": {"^(a+)+$": {"type": "integer"}}}
    [problem] = check_schema(schema)
    assert problem["pointer"] == "/patternProperties/^(a+)+$"
    bounded = {"type": "object", "patternProperties": {"^(a+)+$": True}, "additionalProperties": False}
    outcome = []
    assert finishes(lambda: outcome.append(validate(bounded, {EVIL: 1, "aaa": 2})))
    assert [error["pointer"] for error in outcome[0]] == ["/" + EVIL]  # "aaa" matches: allowed


@pytest.mark.parametrize(
    "pattern, reason",
    [("^(?=a)a$", "前瞻"), ("(?<!x)y", "后顾"), ("^(a)\\1$", "反向引用")],  # zh-CN, the default
)
def test_patterns_re2_cannot_run_are_refused_with_the_reason(app_ctx, pattern, reason):
    [problem] = check_schema({"type": "string", "pattern": pattern})
    assert problem["pointer"] == "/pattern"
    assert reason in problem["message"] and problem["message"] == pattern_problem(pattern)


@pytest.mark.parametrize(
    "pattern",
    ["^[A-Za-z0-9-]+$", "^([a-z0-9]+\\.)+[a-z]{2,}$", "^(\\d{3}-)+\\d{4}$", "^1[3-9]\\d{9}$", "^\\p{Han}+$"],
)
def test_ordinary_patterns_pass_check(app_ctx, pattern):
    assert check_schema({"type": "string", "pattern": pattern}) == []


def test_matching_follows_ecma_digits_and_is_unanchored():
    assert search("\\d", "x1y") and not search("^\\d$", "\u0663")  # ARABIC-INDIC DIGIT THREE
    assert search("上海", "上海测试有限公司") and not search("^上海$", "上海测试")
