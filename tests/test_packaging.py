"""The folder platform/ installs as `formflow` without shadowing the standard library."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_no_module_named_platform_in_the_repo():
    assert not (REPO / "platform" / "__init__.py").exists()
    assert not (REPO / "platform.py").exists()


def test_stdlib_platform_still_imports_with_the_repo_root_on_sys_path():
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import platform; "
        "print(platform.python_version()); print(platform.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(REPO)], cwd=REPO, capture_output=True, text=True, check=True
    )
    version, location = result.stdout.split()
    assert version == ".".join(map(str, sys.version_info[:3]))
    assert not location.startswith(str(REPO / "platform"))


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {"formflow"} | {
        "formflow." + ".".join(path.parent.relative_to(REPO / "platform").parts)
        for path in (REPO / "platform").rglob("*.py")
        if path.parent != REPO / "platform" and "static" not in path.parts
    }
    assert on_disk == listed


def test_formflow_is_imported_from_this_checkout():
    import formflow.app

    assert Path(formflow.app.__file__).resolve() == REPO / "platform" / "app.py"


def test_python_dash_m_formflow_runs_the_cli(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "formflow", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "FORMFLOW_INSTANCE_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    for command in ("init-db", "demo", "create-user", "token", "audit"):
        assert command in result.stdout
