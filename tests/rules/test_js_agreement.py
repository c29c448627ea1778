"""The browser and the server agree: every case of agreement_cases.json goes through
`formflow.rules.evaluate` (datalogic-py) and through the page's evaluator (the vendored
json-logic-js plus static/js/rules.js, run by node) and both give the expected result."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from formflow import rules

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES_FILE = json.loads((HERE / "agreement_cases.json").read_text(encoding="utf-8"))
CASES = CASES_FILE["cases"]
DIFFERENCES = CASES_FILE["differences"]
OFFICIAL = [
    case
    for case in json.loads((ROOT / "tests/peer_suites/jsonlogic/tests.json").read_text(encoding="utf-8"))
    if not isinstance(case, str)
]
VENDORED = ROOT / "platform/static/vendor/json-logic-js"
NODE = os.environ.get("FORMFLOW_NODE", "node")


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
    if expected is None or actual is None:
        return actual is expected
    return actual == expected


def with_defaults(case: dict) -> dict:
    return {
        "rule": case["rule"],
        "data": case["data"],
        "tables": case.get("tables", CASES_FILE["tables"]),
        "today": case.get("today", CASES_FILE["today"]),
    }


def run_in_node(cases: list[dict], tmp_path: Path) -> list[dict]:
    executable = shutil.which(NODE) or NODE
    assert Path(executable).exists(), f"{NODE} missing: node 20 (apt-get install nodejs) runs the JS side"
    source = tmp_path / "cases.json"
    source.write_text(json.dumps(cases), encoding="utf-8")
    finished = subprocess.run(
        [executable, str(HERE / "js_rules.js"), str(source)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    results = json.loads(finished.stdout)
    assert len(results) == len(cases)
    return results


def in_python(case: dict):
    """("value", result) or ("error", message)."""
    try:
        value = rules.evaluate(
            case["rule"], case["data"], tables=case["tables"], today=date.fromisoformat(case["today"])
        )
    except rules.RuleError as error:
        return "error", str(error)
    return "value", rules.engine.plain(value)


@pytest.fixture(scope="module")
def js_results(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("js")
    every = [with_defaults(case) for case in CASES + DIFFERENCES]
    every += [{"rule": rule, "data": data, "tables": {}, "today": None} for rule, data, _expected in OFFICIAL]
    results = run_in_node(every, tmp_path)
    cases, rest = results[: len(CASES)], results[len(CASES) :]
    return {"cases": cases, "differences": rest[: len(DIFFERENCES)], "official": rest[len(DIFFERENCES) :]}


def test_the_table_covers_what_it_must():
    assert len(CASES) >= 40
    used = json.dumps([case["rule"] for case in CASES])
    for operator in rules.OPERATORS:
        assert f'"{operator}"' in used, f"no agreement case uses {operator}"
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)), "case names are unique"


def test_the_vendored_library_is_the_one_its_source_note_names():
    note = (VENDORED / "SOURCE.txt").read_text(encoding="utf-8")
    digest = hashlib.sha256((VENDORED / "logic.js").read_bytes()).hexdigest()
    assert f"logic.js:   sha256 {digest}" in note
    assert "json-logic-js 2.0.5" in note and (VENDORED / "LICENSE").exists()


@pytest.mark.parametrize("index", range(len(CASES)), ids=[case["name"] for case in CASES])
def test_python_and_js_agree(index, js_results, app_ctx):
    case = CASES[index]
    python_kind, python_value = in_python(with_defaults(case))
    js = js_results["cases"][index]
    if case.get("error"):
        assert python_kind == "error", f"Python gave {python_value!r}"
        assert "error" in js, f"JS gave {js.get('value')!r}"
        return
    assert python_kind == "value", python_value
    assert "value" in js, js.get("error")
    assert same(python_value, case["expected"]), f"Python gave {python_value!r}"
    assert same(js["value"], case["expected"]), f"JS gave {js['value']!r}"


@pytest.mark.parametrize("index", range(len(DIFFERENCES)), ids=[case["name"] for case in DIFFERENCES])
def test_known_differences_are_still_as_recorded(index, js_results, app_ctx):
    """Not agreement: where the engines differ today. Rules made by the condition builder
    avoid these forms (see formflow.rules.builder); if one side changes, update the file."""
    case = DIFFERENCES[index]
    python_kind, python_value = in_python(with_defaults(case))
    js = js_results["differences"][index]
    if case["python"] == "error":
        assert python_kind == "error"
    else:
        assert python_kind == "value" and same(python_value, case["python"])
    assert same(js.get("value", "error"), case["js"])


def test_js_with_our_operators_still_passes_the_official_suite(js_results):
    wrong = [
        (rule, data, expected, got)
        for (rule, data, expected), got in zip(OFFICIAL, js_results["official"], strict=True)
        if "value" not in got or not same(got["value"], expected)
    ]
    assert len(OFFICIAL) == 277
    assert wrong == []
