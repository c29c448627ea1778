"""`formflow check|import|export|publish`: output per file and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from formflow.extensions import db
from formflow.processes import services
from formflow.processes.models import Process

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _write(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")
    return str(path)


def _process_keys(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(sa.select(Process.key).order_by(Process.key)).scalars())


def test_check_clean_files(cli, tmp_path, make_spec):
    good = _write(tmp_path, "deduction.json", make_spec())
    result = cli("check", good, *map(str, sorted(CONFIGS.glob("*.json"))))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")


def test_check_prints_file_pointer_message_per_problem(cli, tmp_path, make_spec):
    syntax = _write(tmp_path, "syntax.json", '{\n  "formflow": 1,\n  "key" "x"\n}')
    bad_schema = make_spec()
    bad_schema["form"]["schema"]["type"] = 5
    schema = _write(tmp_path, "schema.json", bad_schema)
    widget_spec = make_spec()
    widget_spec["form"]["uiSchema"] = {"amount": {"ui:widget": "nope"}}
    widget = _write(tmp_path, "widget.json", widget_spec)
    missing = make_spec()
    del missing["name"], missing["category"]
    required = _write(tmp_path, "required.json", missing)
    good = _write(tmp_path, "good.json", make_spec())

    result = cli("check", syntax, schema, widget, required, good)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    [syntax_line] = [line for line in lines if line.startswith(f"{syntax}:")]
    assert syntax_line.startswith(f"{syntax}:: ")
    assert re.search(r"(?<!\d)3(?!\d).*(?<!\d)9(?!\d)", syntax_line), "line 3, column 9"
    assert any(line.startswith(f"{schema}:/form/schema/type: ") for line in lines)
    assert any(line.startswith(f"{widget}:/form/uiSchema/amount/ui:widget: ") for line in lines)
    required_lines = [line for line in lines if line.startswith(f"{required}:: ")]
    assert len(required_lines) == 2
    both = " ".join(required_lines)
    assert "name" in both and "category" in both
    assert not any(line.startswith(good) for line in lines)


def test_check_refuses_a_catastrophic_pattern(cli, tmp_path, make_spec):
    spec = make_spec()
    spec["form"]["schema"]["properties"]["reason"] = {"type": "string", "pattern": "^(a+)+$"}
    path = _write(tmp_path, "evil.json", spec)
    result = cli("check", path)
    assert result.exit_code == 1
    assert f"{path}:/form/schema/properties/reason/pattern: " in result.output


def test_check_needs_existing_files(cli):
    assert cli("check", "/no/such/file.json").exit_code == 2


def test_import_reports_created_unchanged_updated(app, cli, tmp_path, make_spec):
    path = _write(tmp_path, "deduction.json", make_spec())
    first = cli("import", path)
    assert first.exit_code == 0 and f"{path}: created process deduction, version 1" in first.output
    again = cli("import", path)
    assert again.exit_code == 0 and "unchanged deduction (version 1, draft)" in again.output
    _write(tmp_path, "deduction.json", make_spec(category="other"))
    changed = cli("import", path)
    assert changed.exit_code == 0 and "updated deduction draft version 1" in changed.output
    assert cli("publish", "deduction").exit_code == 0
    _write(tmp_path, "deduction.json", make_spec(category="payment"))
    newer = cli("import", path)
    assert newer.exit_code == 0 and "new draft version 2" in newer.output


def test_import_commits_good_files_and_fails_on_bad_ones(app, cli, tmp_path, make_spec):
    good = _write(tmp_path, "a.json", make_spec(key="alpha"))
    bad = _write(tmp_path, "b.json", make_spec(key="Beta"))
    also_good = _write(tmp_path, "c.json", make_spec(key="gamma"))
    result = cli("import", good, bad, also_good)
    assert result.exit_code == 1
    assert f"{bad}:/key: " in result.output
    assert _process_keys(app) == ["alpha", "gamma"]


def test_export_round_trip(app, cli, tmp_path, make_spec):
    spec = make_spec(description={"zh-CN": "中文说明", "en": "English"})
    cli("import", _write(tmp_path, "in.json", spec))
    printed = cli("export", "deduction")
    assert printed.exit_code == 0
    assert "中文说明" in printed.output and '\n  "key": "deduction",' in printed.output
    out = tmp_path / "out.json"
    written = cli("export", "deduction", "--version", "1", "-o", str(out))
    assert written.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert text == printed.output
    with app.app_context():
        assert services.spec_sha256(json.loads(text)) == services.latest_version("deduction").sha256
    reimported = cli("import", str(out))
    assert "unchanged" in reimported.output


def test_export_of_unknown_key_or_version_fails(cli, tmp_path, make_spec):
    assert cli("export", "missing").exit_code == 1
    cli("import", _write(tmp_path, "in.json", make_spec()))
    assert cli("export", "deduction", "--version", "9").exit_code == 1


def test_publish_command(app, cli, tmp_path, make_spec):
    cli("import", _write(tmp_path, "in.json", make_spec()))
    result = cli("publish", "deduction")
    assert result.exit_code == 0 and "deduction" in result.output and "1" in result.output
    with app.app_context():
        assert services.published_version("deduction").number == 1
    again = cli("publish", "deduction")
    assert again.exit_code == 1 and again.output.startswith("deduction:: ")
    assert cli("publish", "missing").exit_code == 1


@pytest.mark.parametrize("command", ["check", "import"])
def test_commands_need_a_file(cli, command, app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["formflow", command]).exit_code == 2


# --- diff ------------------------------------------------------------------------------------


def _offboarding_with_a_new_checklist_item() -> tuple[dict, dict]:
    published = json.loads((CONFIGS / "offboarding.json").read_text(encoding="utf-8"))
    draft = json.loads((CONFIGS / "offboarding.json").read_text(encoding="utf-8"))
    states = draft["workflow"]["states"]
    states["execution"]["checklist"].append(
        {
            "id": "lock_portal",
            "label": {"zh-CN": "关闭客户门户", "en": "Lock the customer portal"},
            "required": True,
        }
    )
    states["evaluation"]["approvals"]["required"] = 3
    draft["form"]["schema"]["properties"]["late_payment_count"]["maximum"] = 99
    return published, draft


def test_diff_names_each_change_by_its_label_published_against_the_draft(app, cli, tmp_path):
    published, draft = _offboarding_with_a_new_checklist_item()
    assert cli("import", _write(tmp_path, "v1.json", published)).exit_code == 0
    assert cli("publish", "offboarding").exit_code == 0
    assert cli("import", _write(tmp_path, "v2.json", draft)).exit_code == 0

    english = cli("diff", "offboarding", "--lang", "en")
    assert english.exit_code == 0, english.output
    lines = english.output.splitlines()
    assert lines[0] == "offboarding: 1 (published) → 2 (draft)"
    assert (
        "- Checklist item added at “Execution” (execution): “Lock the customer portal” (lock_portal)" in lines
    )
    assert "- State “Evaluation” (evaluation): approvals: number required 2 → 3" in lines
    late = [line for line in lines if "/late_payment_count" in line]
    assert len(late) == 1 and "maximum" in late[0] and "→ 99" in late[0]

    chinese = cli("diff", "offboarding").output
    assert "关闭客户门户" in chinese and "执行清退" in chinese and "Lock the customer portal" not in chinese
    assert "Checklist item" not in chinese  # the sentences are translated too

    back = cli("diff", "offboarding", "--from", "2", "--to", "1", "--lang", "en").output
    assert (
        "Checklist item removed at “Execution” (execution): “Lock the customer portal” (lock_portal)" in back
    )
    same = cli("diff", "offboarding", "--from", "1", "--to", "1", "--lang", "en").output
    assert same.splitlines()[1:] == ["No changes."]


def test_diff_of_what_is_not_there_is_a_clear_error(app, cli, tmp_path):
    unknown = cli("diff", "nope", "--lang", "en")
    assert unknown.exit_code == 1 and "No process with key nope" in unknown.output
    published, _draft = _offboarding_with_a_new_checklist_item()
    cli("import", _write(tmp_path, "v1.json", published))
    unpublished = cli("diff", "offboarding", "--lang", "en")
    assert unpublished.exit_code == 1 and "has no published version" in unpublished.output
    missing = cli("diff", "offboarding", "--from", "1", "--to", "7", "--lang", "en")
    assert missing.exit_code == 1 and "has no version 7" in missing.output
