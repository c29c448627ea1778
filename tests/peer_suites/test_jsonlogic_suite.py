"""The official JSONLogic tests (jsonlogic/tests.json, source in jsonlogic/SOURCE.txt) through
`formflow.rules.evaluate`: every case passes; none is excluded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formflow import rules

SUITE = json.loads((Path(__file__).parent / "jsonlogic" / "tests.json").read_text(encoding="utf-8"))
CASES = [case for case in SUITE if not isinstance(case, str)]


def same(actual, expected) -> bool:
    """JSON equality: 1 == 1.0, but a boolean never equals a number."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(same, actual, expected))
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same(actual[k], expected[k]) for k in expected)
        )
    return actual == expected


def test_the_suite_is_all_there():
    assert len(CASES) == 277


@pytest.mark.parametrize(("rule", "data", "expected"), CASES, ids=[json.dumps(c[0])[:60] for c in CASES])
def test_official_case(rule, data, expected, app_ctx):
    assert same(rules.evaluate(rule, data), expected)
