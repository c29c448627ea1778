"""The layering contracts in pyproject.toml ([tool.importlinter], run by `make lint`) hold for
the tree and refuse a wrong import: a copy of the package with one module of the rules engine
importing cases fails, naming the import."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _config(target: Path) -> Path:
    """The project's contracts, as a config file of their own."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[tool.importlinter]", 'root_packages = ["formflow"]']
    for contract in contracts["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in contract.items()]
    path = target / "importlinter.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _lint(tree: Path) -> subprocess.CompletedProcess:
    config = _config(tree)
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=tree, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def package_copy(tmp_path) -> Path:
    shutil.copytree(ROOT / "platform", tmp_path / "formflow", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_tree_keeps_every_contract(package_copy):
    result = _lint(package_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_rules_engine_importing_cases_is_refused(package_copy):
    (package_copy / "formflow" / "rules" / "wrong.py").write_text("from formflow.cases import models\n")
    result = _lint(package_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "formflow.rules.wrong -> formflow.cases.models" in result.stdout
    assert "The rules engine is a leaf" in result.stdout and "BROKEN" in result.stdout


def test_a_new_upward_import_is_refused(package_copy):
    """The known upward imports are listed one by one; any other breaks the layers."""
    (package_copy / "formflow" / "forms" / "wrong.py").write_text("from formflow.workflows import engine\n")
    result = _lint(package_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "formflow.forms.wrong -> formflow.workflows.engine" in result.stdout


@pytest.mark.parametrize("above", ["formflow.workflows", "formflow.processes", "formflow.cases"])
def test_the_effect_registry_imports_nothing_above_it(above):
    """formflow.effects sits below the engine that runs effects and the checks that call it:
    a feature package registers an effect without importing formflow.workflows."""
    graph = grimp.build_graph("formflow")
    for module in ("formflow.effects", "formflow.notices"):
        assert not graph.chain_exists(importer=module, imported=above, as_packages=True), (module, above)
