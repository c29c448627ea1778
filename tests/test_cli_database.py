"""Every `formflow` command on a missing or unmigrated database: one line, exit 2, no
traceback; `check` runs without a database. The apps here use SQLite files of their own,
so these tests run the same under FORMFLOW_TEST_DATABASE=postgresql."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formflow.app import create_app

#: Apps of their own: the rolled-back session of conftest.py (bound to the suite's app) stays away.
pytestmark = pytest.mark.live_db

CONFIGS = sorted(str(path) for path in (Path(__file__).resolve().parents[1] / "configs").glob("*.json"))

COMMANDS = [
    ["demo"],
    ["create-user", "bob", "--role", "staff", "--password", "correct-horse-9"],
    ["unlock", "bob"],
    ["token", "create", "bob"],
    ["audit", "anchor"],
    ["audit", "verify"],
    ["import", CONFIGS[0]],
    ["export", "deduction"],
    ["publish", "deduction"],
    ["tick"],
    ["reconcile", "match"],
]


def _app(tmp_path, database: Path):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "INSTANCE_DIR": str(tmp_path / "instance"),
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        }
    )


def _invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["formflow", *args])


def _expected(app) -> str:
    from formflow.dbready import not_set_up_message

    with app.app_context():
        return not_set_up_message()


@pytest.fixture(params=["missing", "empty file", "other tables only"])
def unready(request, tmp_path):
    database = tmp_path / "db.sqlite"
    if request.param == "empty file":
        database.touch()
    elif request.param == "other tables only":
        import sqlite3

        with sqlite3.connect(database) as connection:
            connection.execute("CREATE TABLE unrelated (id INTEGER)")
    return _app(tmp_path, database), database, request.param


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command[:2]))
def test_every_command_says_the_database_is_not_set_up(unready, command):
    app, database, kind = unready
    result = _invoke(app, *command)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [_expected(app)]
    assert "flask --app wsgi formflow init-db" in result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert database.exists() == (kind != "missing"), "the check must not create the database"


def test_help_still_works_without_a_database(tmp_path):
    result = _invoke(_app(tmp_path, tmp_path / "db.sqlite"), "create-user", "--help")
    assert result.exit_code == 0
    assert "USERNAME" in result.output


def test_init_db_creates_it_and_then_commands_run(tmp_path):
    app = _app(tmp_path, tmp_path / "db.sqlite")
    assert _invoke(app, "init-db").exit_code == 0
    result = _invoke(app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")


def test_a_table_missing_later_still_ends_in_the_line(tmp_path):
    app = _app(tmp_path, tmp_path / "db.sqlite")
    assert _invoke(app, "init-db").exit_code == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "db.sqlite") as connection:
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
            if name.startswith("audit"):
                connection.execute(f'DROP TABLE "{name}"')
    result = _invoke(app, "audit", "verify")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [_expected(app)]


def test_check_the_templates_without_a_database(unready):
    app, database, kind = unready
    result = _invoke(app, "check", *CONFIGS)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK")
    [notice] = [line for line in result.stderr.splitlines() if line.startswith("global tables not checked")]
    assert "(no database)" in notice
    assert "Traceback" not in result.output
    assert database.exists() == (kind != "missing")


def test_check_names_a_lookup_of_a_table_it_cannot_see(tmp_path):
    specs = [json.loads(Path(path).read_text(encoding="utf-8")) for path in CONFIGS]
    spec = next(spec for spec in specs if spec.get("tables"))  # a template with a table of its own
    text = json.dumps(spec, ensure_ascii=False)
    own = spec["tables"][0]["key"]
    assert f'"lookup": ["{own}"' in text, "the template looks up its own table"
    path = tmp_path / "late.json"
    path.write_text(text.replace(f'"lookup": ["{own}"', '"lookup": ["late_fees"', 1), encoding="utf-8")
    result = _invoke(_app(tmp_path, tmp_path / "db.sqlite"), "check", str(path))
    assert result.exit_code == 0, result.output
    [notice] = [line for line in result.stderr.splitlines() if line.startswith("global tables not checked")]
    assert f'lookup of "late_fees" in {path}' in notice
    assert "tests not run" in notice
    assert own not in notice


def test_check_without_a_database_reports_a_file_that_is_not_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"formflow": 1, "key"', encoding="utf-8")
    not_spec = tmp_path / "list.json"
    not_spec.write_text("[1, 2]", encoding="utf-8")
    result = _invoke(_app(tmp_path, tmp_path / "db.sqlite"), "check", str(bad), str(not_spec), CONFIGS[0])
    assert result.exit_code == 1, result.output
    assert any(line.startswith(f"{bad}:: ") for line in result.stdout.splitlines())
    assert any(line.startswith(f"{not_spec}:") for line in result.stdout.splitlines())
    assert not any(line.startswith(CONFIGS[0]) for line in result.stdout.splitlines())
    assert "Traceback" not in result.output
