"""The effect registry (formflow.effects) takes an effect from a module that imports nothing
of the workflow engine: the spec check knows it (its config schema, its JSONLogic values)
and the engine runs it when a case enters the state."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from workflows.effects_support import new_case, publish_with, spec_with, walk, world

from formflow.audit.models import AuditEntry
from formflow.effects import EFFECTS, check_effect
from formflow.extensions import db
from formflow.processes.workflow_checks import check_workflow

TESTS = Path(__file__).resolve().parent
STATE = "stamped"
NAME = "test.stamp"


@pytest.fixture
def support():
    """The test effect registered (importing its module, as the app factory imports a
    feature package) for one test, and unregistered after it: no other test sees it."""
    module = importlib.import_module("effect_registry_support")
    if NAME not in EFFECTS:  # an earlier test's teardown unregistered it
        module = importlib.reload(module)
    module.RAN.clear()
    yield module
    EFFECTS.pop(NAME, None)


def _spec(config: dict) -> dict:
    return spec_with({STATE: {"on_enter": [config]}})


def test_the_registering_module_imports_nothing_of_the_workflow_engine():
    code = (
        "import sys, effect_registry_support\n"
        "print(sorted(m for m in sys.modules if m.startswith(('formflow.workflows', "
        "'formflow.processes', 'formflow.cases'))))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(TESTS)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_check_effect_knows_the_registered_effect(app_ctx, support):
    assert EFFECTS[NAME].schema["properties"]["effect"] == {"const": NAME}
    assert check_effect({"effect": NAME, "note": "hello"}) == []
    misspelt = check_effect({"effect": NAME, "notes": "hello"})
    assert {p["pointer"] for p in misspelt} == {"/note", "/notes"}
    assert all(p["message"] for p in misspelt)


def test_the_spec_check_takes_it_and_points_into_its_config(app_ctx, support):
    at = f"/workflow/states/{STATE}/on_enter/0"
    assert check_workflow(_spec({"effect": NAME, "note": {"var": "data.amount"}})) == []
    misspelt = check_workflow(_spec({"effect": NAME, "notes": "hello"}))
    assert f"{at}/notes" in {p["pointer"] for p in misspelt}
    unknown_variable = check_workflow(_spec({"effect": NAME, "note": {"var": "data.amont"}}))
    assert [p["pointer"] for p in unknown_variable] == [f"{at}/note/var"]


def test_it_runs_when_a_case_enters_the_state(app_ctx, support):
    people = world()
    note = {"cat": ["by ", {"var": "user.username"}]}
    publish_with({STATE: {"on_enter": [{"effect": NAME, "note": note}]}})
    case = new_case(people["staff"])
    walk(case, STATE, people["staff"])
    assert case.state == STATE
    assert [(f"case:{case.id}:{STATE}:{case.state_round}:0", "by fx-staff")] == support.RAN
    [entry] = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == "case.effect", AuditEntry.object_id == str(case.id))
    ).scalars()
    assert entry.after["effect"] == NAME
    assert entry.after["outcome"] == {"note": "by fx-staff", "state": STATE}


def test_an_unregistered_effect_is_refused_at_its_pointer(app_ctx, support):
    EFFECTS.pop(NAME)
    [problem] = check_effect({"effect": NAME, "note": "hello"})
    assert problem["pointer"] == "/effect" and NAME in problem["message"]
