"""The process admin pages: list, import (upload or paste -> errors or summary -> confirm),
process page with versions, publish, export download, edit as a new draft."""

from __future__ import annotations

import html
import io
import json
import re

import sqlalchemy as sa

from formflow.extensions import db
from formflow.processes import services
from formflow.processes.models import Process


def _hidden(body: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', body)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def _upload(admin, content: bytes, filename: str = "spec.json"):
    return admin.post_form("/admin/processes/import", {"file": (io.BytesIO(content), filename)})


def _json_bytes(spec: dict) -> bytes:
    return json.dumps(spec, ensure_ascii=False, indent=2).encode("utf-8")


def _import(app, spec: dict, publish: bool = False) -> None:
    with app.app_context():
        services.import_spec(spec)
        if publish:
            services.publish(spec["key"])
        db.session.commit()


def _process_count(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(Process)).scalar_one()


def test_list_shows_processes_in_the_users_language(app, login_as, make_spec):
    _import(app, make_spec(), publish=True)
    _import(app, make_spec(key="payment", name={"zh-CN": "缴费", "en": "Payment"}))
    auditor = login_as("auditor")
    body = auditor.get("/admin/processes/").get_data(as_text=True)
    assert "客户扣款" in body and "缴费" in body and "deduction" in body
    assert "/admin/processes/import" not in body  # auditors only read
    auditor.get("/lang/en")
    body = auditor.get("/admin/processes/").get_data(as_text=True)
    assert "Customer deduction" in body and "Payment" in body


def test_upload_with_a_json_syntax_error_shows_line_and_column(app, login_as):
    admin = login_as("admin")
    admin.get("/lang/en")
    response = _upload(admin, b'{\n  "formflow": 1,\n  "key" "x"\n}')
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "line 3, column 9" in body
    assert _process_count(app) == 0


def test_a_json_syntax_error_is_explained_in_the_users_language(app, login_as):
    admin = login_as("admin")
    admin.get("/lang/zh_Hans_CN")
    body = _upload(admin, b'{\n  "formflow": 1,\n  "key" "x"\n}').get_data(as_text=True)
    assert "第 3 行第 9 列" in body and "成员名后缺少冒号" in body
    assert "Expecting" not in body
    pasted = admin.post_form("/admin/processes/import", {"text": '{"formflow": 1 "key": "x"}'})
    assert "缺少逗号" in pasted.get_data(as_text=True)


def test_upload_of_an_invalid_spec_lists_problems_with_pointers(app, login_as, make_spec):
    spec = make_spec()
    spec["form"]["schema"]["type"] = 5
    del spec["name"]
    admin = login_as("admin")
    response = _upload(admin, _json_bytes(spec))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'data-testid="spec-errors"' in body
    assert "<code>/form/schema/type</code>" in body  # every problem at once
    assert "name" in body
    assert _process_count(app) == 0


def test_upload_of_a_bad_form_schema_points_into_it(app, login_as, make_spec):
    spec = make_spec()
    spec["form"]["uiSchema"] = {"amount": {"ui:widget": "nope"}}
    response = _upload(login_as("admin"), _json_bytes(spec))
    assert response.status_code == 422
    assert "<code>/form/uiSchema/amount/ui:widget</code>" in response.get_data(as_text=True)


def test_nothing_submitted(login_as):
    response = login_as("admin").post_form("/admin/processes/import", {})
    assert response.status_code == 422


def test_pasted_text_is_kept_when_it_has_errors(login_as):
    pasted = '{"formflow": 1, "key": "<b>x</b>"'
    response = login_as("admin").post_form("/admin/processes/import", {"text": pasted})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert pasted in html.unescape(body)
    assert "&lt;b&gt;x&lt;/b&gt;" in body and "<b>x</b>" not in body


def test_upload_summary_confirm_then_process_page(app, login_as, make_spec):
    admin = login_as("admin")
    admin.get("/lang/en")
    summary = _upload(admin, _json_bytes(make_spec()))
    assert summary.status_code == 200
    body = summary.get_data(as_text=True)
    assert "Confirm import" in body and "new process" in body
    assert _process_count(app) == 0  # nothing until confirmed
    confirmed = admin.post_form(
        "/admin/processes/import/confirm", {"spec": _hidden(body, "spec"), "base": _hidden(body, "base")}
    )
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"].endswith("/admin/processes/deduction")
    page = admin.get("/admin/processes/deduction").get_data(as_text=True)
    assert "v1" in page and "draft" in page and "Publish" in page
    with app.app_context():
        version = services.latest_version("deduction")
        assert version.created_by_id is not None
        assert list(version.spec) == list(make_spec())
        assert version.sha256[:12] in page


def test_summary_of_a_new_version_lists_changes(app, login_as, make_spec):
    _import(app, make_spec(), publish=True)
    admin = login_as("admin")
    admin.get("/lang/en")
    changed = make_spec(name={"zh-CN": "客户扣款", "en": "Deduction"})
    changed["form"]["schema"]["properties"]["fee"] = {"type": "number", "title": "手续费"}
    body = _upload(admin, _json_bytes(changed)).get_data(as_text=True)
    assert "new draft version 2" in body
    assert "Field added: “手续费” (/fee)" in body and "Customer deduction → Deduction" in body


def test_confirm_notices_a_change_made_meanwhile(app, login_as, make_spec):
    _import(app, make_spec(), publish=True)
    admin = login_as("admin")
    body = _upload(admin, _json_bytes(make_spec(category="other"))).get_data(as_text=True)
    _import(app, make_spec(category="payment"))  # someone else made draft 2 meanwhile
    response = admin.post_form(
        "/admin/processes/import/confirm", {"spec": _hidden(body, "spec"), "base": _hidden(body, "base")}
    )
    assert response.status_code == 409
    with app.app_context():
        assert services.latest_version("deduction").spec["category"] == "payment"


def test_confirm_checks_the_spec_again(app, login_as, make_spec):
    tampered = json.dumps(make_spec(key="Not Valid"))
    response = login_as("admin").post_form("/admin/processes/import/confirm", {"spec": tampered, "base": ""})
    assert response.status_code == 422 and "<code>/key</code>" in response.get_data(as_text=True)
    assert _process_count(app) == 0


def test_publish_from_the_process_page(app, login_as, make_spec):
    _import(app, make_spec())
    admin = login_as("admin")
    page = admin.get("/admin/processes/deduction").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    sha = _hidden(page, "sha256")
    response = admin.post_form("/admin/processes/deduction/publish", {"number": "1", "sha256": sha})
    assert response.status_code == 302
    with app.app_context():
        assert services.published_version("deduction").number == 1
    page = admin.get("/admin/processes/deduction").get_data(as_text=True)
    assert '<span class="badge">已发布</span>' in page  # zh-CN, the default language


def test_publish_refuses_a_stale_page_and_missing_csrf(app, login_as, make_spec):
    _import(app, make_spec())
    admin = login_as("admin")
    stale = admin.post_form("/admin/processes/deduction/publish", {"number": "1", "sha256": "0" * 64})
    assert stale.status_code == 409
    no_csrf = admin.raw.post("/admin/processes/deduction/publish", data={"number": "1", "sha256": "0" * 64})
    assert no_csrf.status_code == 400
    with app.app_context():
        assert services.latest_version("deduction").status == "draft"


def test_export_download(app, login_as, make_spec):
    _import(app, make_spec(description={"zh-CN": "中文", "en": "English"}), publish=True)
    response = login_as("auditor").get("/admin/processes/deduction/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="deduction.json"'
    text = response.get_data(as_text=True)
    assert "中文" in text
    with app.app_context():
        assert services.spec_sha256(json.loads(text)) == services.published_version("deduction").sha256
    versioned = login_as("admin").get("/admin/processes/deduction/export?version=1")
    assert versioned.headers["Content-Disposition"] == 'attachment; filename="deduction-v1.json"'
    assert login_as("admin").get("/admin/processes/deduction/export?version=5").status_code == 404


def test_version_page_shows_the_spec_escaped(app, login_as, make_spec):
    _import(app, make_spec(name={"zh-CN": "<script>alert(1)</script>", "en": "x"}))
    body = login_as("auditor").get("/admin/processes/deduction/versions/1").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    for url in ("/admin/processes/", "/admin/processes/deduction"):
        assert "<script>alert" not in login_as("admin").get(url).get_data(as_text=True)


def test_edit_makes_a_new_draft_of_a_published_process(app, login_as, make_spec):
    _import(app, make_spec(), publish=True)
    admin = login_as("admin")
    form = admin.get("/admin/processes/deduction/edit").get_data(as_text=True)
    assert '"key": "deduction"' in html.unescape(form)
    edited = json.dumps(make_spec(category="other"), ensure_ascii=False, indent=2)
    response = admin.post_form("/admin/processes/deduction/edit", {"text": edited})
    assert response.status_code == 302
    with app.app_context():
        assert [(row.version.number, row.version.status) for row in services.history("deduction")] == [
            (2, "draft"),
            (1, "published"),
        ]


def test_edit_errors_show_pointers_and_keep_the_input(app, login_as, make_spec):
    _import(app, make_spec())
    admin = login_as("admin")
    edited = json.dumps(make_spec(formflow=2, key="renamed"), indent=2)
    response = admin.post_form("/admin/processes/deduction/edit", {"text": edited})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<code>/formflow</code>" in body and "<code>/key</code>" in body
    assert '"key": "renamed"' in html.unescape(body)
    syntax = admin.post_form("/admin/processes/deduction/edit", {"text": "{\n\n  oops"})
    assert syntax.status_code == 422
    with app.app_context():
        assert services.latest_version("deduction").spec["formflow"] == 1


def test_navigation_shows_processes_to_readers_only(login_as):
    assert "/admin/processes/" in login_as("auditor").get("/").get_data(as_text=True)
    assert "/admin/processes/" not in login_as("staff").get("/").get_data(as_text=True)
