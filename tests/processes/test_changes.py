"""The semantic diff between two specs: each element by its label, each property before → after,
in the reader's language; the import summary shows it."""

from __future__ import annotations

import copy
import html
import io
import json
from pathlib import Path

import pytest

from formflow.processes.changes import describe_changes

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _config(name: str) -> dict:
    return json.loads((CONFIGS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def deduction() -> dict:
    return _config("deduction")


def test_equal_specs_have_no_changes(english, deduction):
    assert describe_changes(deduction, copy.deepcopy(deduction)) == []


def test_a_field_property_and_its_required_flag(english, deduction):
    new = copy.deepcopy(deduction)
    amount = new["form"]["schema"]["properties"]["amount"]
    amount["maximum"] = 8000
    amount["title"] = "金额"
    new["form"]["schema"]["required"].remove("reason")
    changes = describe_changes(deduction, new)
    assert "Field “金额” (/amount): label 扣款金额（元） → 金额; maximum — → 8000" in changes
    reason = [change for change in changes if "(/reason)" in change]
    assert len(reason) == 1 and reason[0].endswith(": no longer required")


def test_rules_by_their_titles(english, deduction):
    new = copy.deepcopy(deduction)
    new["rules"][0]["when"] = {"==": [{"var": "data.reason"}, "misc"]}
    del new["rules"][1]
    changes = describe_changes(deduction, new)
    assert any(
        change.startswith("Rules: “Explain an “other” reason” (show-other-reason): condition ")
        and change.endswith('→ {"==": [{"var": "data.reason"}, "misc"]}')
        for change in changes
    ), changes
    assert (
        f"Rules: removed “{deduction['rules'][1]['title']['en']}” ({deduction['rules'][1]['id']})" in changes
    )


def test_table_rows_by_key_and_columns_by_title(english, deduction):
    new = copy.deepcopy(deduction)
    table = new["tables"][0]
    table["rows"][1][3] = 30000  # tier B's dual-approval threshold
    table["rows"].append(["D", 1000, 2000, 500])
    changes = describe_changes(deduction, new)
    [line] = [change for change in changes if change.startswith("Tables:")]
    column = table["columns"][3]["title"]["en"]
    assert line == (
        f"Tables: “Deduction limits” (deduction_limits): row added: D; row B: {column} 10000 → 30000"
    )


def test_workflow_states_actions_and_checklists(english):
    old = _config("offboarding")
    new = copy.deepcopy(old)
    states = new["workflow"]["states"]
    states["execution"]["checklist"].reverse()
    states["evaluation"]["actions"]["proceed"]["to"] = "settlement"
    states["hold"] = {"kind": "automatic", "title": {"zh-CN": "暂停", "en": "On hold"}}
    del states["blacklisted"]
    changes = describe_changes(old, new)
    assert "State added: “On hold” (hold)" in changes
    assert "State removed: “Blacklisted” (blacklisted)" in changes
    assert (
        "Action “Proceed with offboarding” (proceed) at “Evaluation” (evaluation): "
        "target “Formal notice” (formal_notice) → “Settlement” (settlement)"
    ) in changes
    assert "Order of the checklist changed at “Execution” (execution)" in changes
    assert not any("Workflow changed" in change for change in changes)


def test_the_same_sentences_in_chinese(zh):
    old = _config("offboarding")
    new = copy.deepcopy(old)
    new["workflow"]["states"]["evaluation"]["approvals"]["required"] = 3
    assert describe_changes(old, new) == ["步骤 “评估” (evaluation)：审批：所需人数 2 → 3"]


def test_the_import_summary_names_the_workflow_change(app, login_as):
    from formflow.processes import services

    old = _config("offboarding")
    with app.app_context():
        services.import_spec(old)
        services.publish("offboarding")
        from formflow.extensions import db

        db.session.commit()
    new = copy.deepcopy(old)
    new["workflow"]["states"]["execution"]["checklist"].append(
        {"id": "lock_portal", "label": {"zh-CN": "关闭客户门户", "en": "Lock the customer portal"}}
    )
    admin = login_as("admin")
    upload = {"file": (io.BytesIO(json.dumps(new, ensure_ascii=False).encode()), "offboarding.json")}
    body = html.unescape(admin.post_form("/admin/processes/import", upload).get_data(as_text=True))
    assert "步骤 “执行清退” (execution) 的清单新增事项：“关闭客户门户” (lock_portal)" in body
    assert "工作流已变更" not in body


def _publish_then_draft(app, new_spec_of) -> None:
    """deduction v1 published with two running cases (one closed case does not count), v2 a draft."""
    from formflow.auth import services as users
    from formflow.cases import services as cases
    from formflow.customers import services as customers
    from formflow.extensions import db
    from formflow.processes import services

    old = _config("deduction")
    with app.app_context():
        staff = users.create_user("compare-staff", "correct-horse-9", ["staff"])
        services.import_spec(old)
        services.publish("deduction")
        customers.create("K001", "甲", "B")
        for amount in (100, 200, 300):
            cases.start("deduction", "K001", {"amount": amount}, submit=False, actor=staff)
        closed = cases.start("deduction", "K001", {"amount": 1}, submit=False, actor=staff)
        closed.closed_at = closed.created_at
        services.import_spec(new_spec_of(old))
        db.session.commit()


def _with_a_higher_threshold(spec: dict) -> dict:
    new = copy.deepcopy(spec)
    new["tables"][0]["rows"][1][3] = 30000
    return new


def test_the_compare_page_shows_changes_running_cases_and_tests(app, login_as):
    _publish_then_draft(app, _with_a_higher_threshold)
    admin = login_as("admin")
    page = html.unescape(admin.get("/admin/processes/deduction/compare").get_data(as_text=True))
    assert "v1 (已发布) → v2 (草稿)" in page
    assert "参数表：“扣款限额” (deduction_limits)：行 B：" in page and "10000 → 30000" in page
    assert "v1：3 个进行中的案件留在此版本" in page
    assert "全部" in page and "项测试通过" in page  # the spec's own tests, run on the draft
    assert 'name="number" value="2"' in page  # publish v2 from here

    admin.get("/lang/en")
    back = html.unescape(admin.get("/admin/processes/deduction/compare?from=2&to=1").get_data(as_text=True))
    assert "v2 (draft) → v1 (published)" in back and "30000 → 10000" in back
    assert 'name="number" value="1"' not in back  # only a draft is published from here
    missing = admin.get("/admin/processes/deduction/compare?from=9")
    assert missing.status_code == 404 and "has no version 9" in missing.get_data(as_text=True)


def test_failing_tests_of_the_draft_are_named_before_publishing(app, login_as):
    def broken(spec: dict) -> dict:
        new = copy.deepcopy(spec)
        new["rules"][0]["when"] = {"==": [1, 2]}
        return new

    _publish_then_draft(app, broken)
    admin = login_as("admin")
    admin.get("/lang/en")
    page = html.unescape(admin.get("/admin/processes/deduction/compare").get_data(as_text=True))
    assert "Tests of version 2 that fail:" in page and "/tests/" in page


def test_roll_back_makes_a_new_draft_from_an_old_version(app, login_as):
    from formflow.extensions import db
    from formflow.processes import services

    v1 = _config("deduction")
    with app.app_context():
        services.import_spec(v1)
        services.publish("deduction")
        services.import_spec(_with_a_higher_threshold(v1))
        services.publish("deduction")  # v2 published, v1 retired
        sha = services.version("deduction", 1).sha256
        db.session.commit()
    admin = login_as("admin")
    admin.get("/lang/en")
    show = admin.get("/admin/processes/deduction").get_data(as_text=True)
    assert "/admin/processes/deduction/versions/1/draft" in show  # the button on v1's row
    made = admin.post_form("/admin/processes/deduction/versions/1/draft", {"number": "1", "sha256": sha})
    assert made.status_code == 302 and made.headers["Location"].endswith("/compare?to=3")
    page = html.unescape(admin.get(made.headers["Location"]).get_data(as_text=True))
    assert "Version 3 is a new draft made from version 1." in page
    assert "v2 (published) → v3 (draft)" in page and "30000 → 10000" in page
    with app.app_context():
        assert services.version("deduction", 3).spec == services.version("deduction", 1).spec

    again = admin.post_form("/admin/processes/deduction/versions/1/draft", {"number": "1", "sha256": sha})
    assert again.status_code == 409
    assert "Version 3 is a draft being edited" in html.unescape(again.get_data(as_text=True))
    with app.app_context():
        assert services.latest_version("deduction").number == 3  # nothing more was written
