"""Integrity and access on the shipped templates, as the demo users meet them: a submit from
the case page or the API checks the form like the form's own Submit; a draft is its author's;
data sent with an action is checked, limited to what the step may change, and audited;
reassignment and delegation never lend a role; a file field holds an uploaded file."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from conftest import Client
from werkzeug.datastructures import FileStorage

from formflow.audit.models import AuditEntry
from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases import uploads
from formflow.demo import DEMO_PASSWORD, load_demo
from formflow.errors import Forbidden, Invalid
from formflow.extensions import db
from formflow.rules.operators import business_today
from formflow.workflows import engine, inbox

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n"


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo(echo=lambda _line: None)
        auth.create_user("staff2", DEMO_PASSWORD, ["staff"], enforce_password_policy=False)
        db.session.commit()


def u(name: str):
    return auth.find_user(name)


def client_for(app, name: str, language: str = "zh_Hans_CN") -> Client:
    client = Client(app.test_client())
    assert client.login(name, DEMO_PASSWORD).status_code == 302
    client.raw.set_cookie("lang", language)
    return client


def bearer(app, name: str) -> dict:
    with app.app_context():
        token, _record = auth.create_token(u(name), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def evidence(by: str, name: str = "验收单.pdf") -> str:
    upload = FileStorage(io.BytesIO(PDF), name, content_type="application/pdf")
    token = uploads.store_upload("/evidence", upload, {}, actor=u(by))
    db.session.commit()
    return token


def deduction(app, *, by="staff", customer="C005", submit=False, **data) -> int:
    with app.app_context():
        case = cases.start("deduction", customer, data, submit=submit, actor=u(by))
        db.session.commit()
        return case.id


def complete_deduction(app, amount="100.00", **extra) -> dict:
    with app.app_context():
        token = evidence("staff")
    return {
        "reason": "quality",
        "amount": Decimal(amount),
        "incident_date": "2026-11-20",
        "evidence": token,
    } | extra


def state_of(app, case_id: int) -> str:
    with app.app_context():
        return cases.get(case_id).state


def text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# --- 1. leaving a form step checks the submission -------------------------------------------


def test_submit_from_the_case_page_checks_the_form_and_shows_it_with_its_messages(app, demo):
    case_id = deduction(app, reason="other", reason_note="现场核实", amount=Decimal("12000"))
    staff = client_for(app, "staff")
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/cases/{case_id}/actions/submit" in page
    response = staff.post_form(f"/cases/{case_id}/actions/submit", {}, token_page=f"/cases/{case_id}")
    assert response.status_code == 422
    shown = response.get_data(as_text=True)
    assert 'class="case-form"' in shown  # the form, with each message beside its field
    words = text(shown)
    assert "发生日期" in words and "证据附件" in words and "超过" in words
    assert shown.count('aria-invalid="true"') >= 3
    assert state_of(app, case_id) == "draft"


def test_submit_through_the_api_checks_the_form(app, demo):
    headers = bearer(app, "staff")
    client = app.test_client()
    created = client.post(
        "/api/v1/cases",
        json={"process": "deduction", "customer": "C002", "data": {"reason": "quality", "amount": 100}},
        headers=headers,
    )
    assert created.status_code == 201 and created.json["state"] == "draft"
    number = created.json["id"]
    refused = client.post(f"/api/v1/cases/{number}/actions/submit", json={}, headers=headers)
    assert refused.status_code == 422
    pointers = {error.get("field") or error["pointer"] for error in refused.json["errors"]}
    assert {"/data/incident_date", "/data/evidence"} <= pointers
    assert state_of(app, number) == "draft"


def test_a_complete_draft_submitted_from_the_case_page_moves_on_and_says_so(app, demo):
    case_id = deduction(app, **complete_deduction(app))
    staff = client_for(app, "staff")
    done = staff.post_form(f"/cases/{case_id}/actions/submit", {}, token_page=f"/cases/{case_id}")
    assert done.status_code == 302
    assert state_of(app, case_id) == "review"
    page = text(staff.get(f"/cases/{case_id}").get_data(as_text=True))
    assert "“提交审核”" in page and "“审核”" in page  # the action's and the step's titles, not keys
    with app.app_context():
        assert cases.get(case_id).submitted_at is not None


def test_the_form_submit_says_submitted_not_saved(app, demo):
    case_id = deduction(app, **complete_deduction(app))
    staff = client_for(app, "staff")
    form = staff.get(f"/cases/{case_id}/edit").get_data(as_text=True)
    token = re.search(r'name="/evidence" value="([^"]+)"', form)
    fields = {
        "/reason": "quality",
        "/amount": "100.00",
        "/incident_date": "2026-11-20",
        "/evidence": token.group(1) if token else "",
        "case_action": "submit",
    }
    response = staff.post_form(f"/cases/{case_id}/edit", fields, token_page=f"/cases/{case_id}/edit")
    assert response.status_code == 302, text(response.get_data(as_text=True))[:2000]
    page = text(staff.get(f"/cases/{case_id}").get_data(as_text=True))
    assert "已提交" in page and "草稿已保存" not in page
    assert f"/cases/{case_id}/edit" not in staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert staff.get(f"/cases/{case_id}/edit").status_code == 409


# --- 2. a draft is its author's -------------------------------------------------------------


def test_another_staff_member_can_neither_see_nor_submit_a_draft(app, demo):
    case_id = deduction(app, **complete_deduction(app))
    other = client_for(app, "staff2")
    assert other.get(f"/cases/{case_id}").status_code == 403
    refused = other.post_form(f"/cases/{case_id}/actions/submit", {}, token_page="/")
    assert refused.status_code == 403
    api = app.test_client().post(
        f"/api/v1/cases/{case_id}/actions/submit", json={}, headers=bearer(app, "staff2")
    )
    assert api.status_code == 403
    assert state_of(app, case_id) == "draft"
    assert f"/cases/{case_id}" not in other.get("/cases/").get_data(as_text=True)
    admin = client_for(app, "admin")
    assert f"/cases/{case_id}/actions/submit" in admin.get(f"/cases/{case_id}").get_data(as_text=True)


def test_a_submitted_case_is_read_by_its_approvers_and_auditors_not_by_other_staff(app, demo):
    case_id = deduction(app, submit=True, **complete_deduction(app))
    for name, status in (
        ("finance", 200),
        ("auditor", 200),
        ("manager", 200),
        ("staff", 200),
        ("staff2", 403),
    ):
        assert client_for(app, name).get(f"/cases/{case_id}").status_code == status, name
    with app.app_context():
        token = cases.get(case_id).attachments[0].token
    assert client_for(app, "staff2").get(f"/cases/attachments/{token}").status_code == 403
    download = client_for(app, "finance").get(f"/cases/attachments/{token}")
    assert download.status_code == 200
    download.close()
    listed = client_for(app, "auditor").get("/cases/").get_data(as_text=True)
    assert f'href="/cases/{case_id}"' in listed
    assert f'href="/cases/{case_id}"' not in client_for(app, "staff2").get("/cases/").get_data(as_text=True)


def test_a_spec_names_who_reads_its_cases(app, demo):
    from formflow.cases.visibility import readers
    from formflow.processes.models import ProcessVersion

    named = ProcessVersion(spec={"access": {"read": ["risk"]}, "workflow": {"states": {}}})
    assert readers(named) == {"admin", "risk"}
    default = ProcessVersion(spec={"workflow": {"states": {"r": {"assignee": {"role": "finance"}}}}})
    assert readers(default) == {"admin", "auditor", "finance"}


# --- 7. data sent with an action ------------------------------------------------------------


def test_another_user_cannot_rewrite_a_draft_through_action_data(app, demo):
    case_id = deduction(app, **complete_deduction(app))
    response = app.test_client().post(
        f"/api/v1/cases/{case_id}/actions/submit",
        json={"data": {"amount": "4999.99"}},
        headers=bearer(app, "staff2"),
    )
    assert response.status_code == 403
    with app.app_context():
        assert cases.get(case_id).data["amount"] == Decimal("100.00")


def test_action_data_from_the_author_is_checked_and_audited_with_before_and_after(app, demo):
    case_id = deduction(app, **complete_deduction(app))
    client, headers = app.test_client(), bearer(app, "staff")
    bad = client.post(
        f"/api/v1/cases/{case_id}/actions/submit", json={"data": {"amount": 9000}}, headers=headers
    )
    assert bad.status_code == 422 and bad.json["errors"][0]["pointer"] == "/data/amount"  # above tier C
    good = client.post(
        f"/api/v1/cases/{case_id}/actions/submit", json={"data": {"amount": 200}}, headers=headers
    )
    assert good.status_code == 200 and good.json["state"] == "review"
    with app.app_context():
        assert cases.get(case_id).data["amount"] == Decimal("200.00")
        entry = db.session.execute(
            sa.select(AuditEntry).where(
                AuditEntry.action == "case.data", AuditEntry.object_id == str(case_id)
            )
        ).scalar_one()
        assert (
            entry.before["data"] == {"amount": "100.00"}
            or Decimal(str(entry.before["data"]["amount"])) == 100
        )
        assert Decimal(str(entry.after["data"]["amount"])) == 200


def test_an_approver_cannot_change_the_facts(app, demo):
    case_id = deduction(app, submit=True, **complete_deduction(app))
    response = app.test_client().post(
        f"/api/v1/cases/{case_id}/actions/approve",
        json={"data": {"amount": "1"}},
        headers=bearer(app, "finance"),
    )
    assert response.status_code == 422 and response.json["errors"][0]["pointer"] == "/data"
    assert state_of(app, case_id) == "review"


def _offboarding_at_execution(app) -> int:
    data = {
        "criteria": ["late_payments"],
        "late_payment_count": 3,
        "details": "连续三个月逾期",
        "contact": "张经理",
    }
    with app.app_context():
        case = cases.start("offboarding", "C006", data, submit=True, actor=u("staff"))
        for action, who in (
            ("start_rectification", "risk"),
            ("evaluate", "risk"),
            ("proceed", "risk"),
            ("proceed", "manager"),  # two approvals to go on
            ("execute", "manager"),
        ):
            engine.perform(case, action, u(who), comment="ok")
        db.session.commit()
        assert case.state == "execution"
        return case.id


def test_a_later_form_step_changes_only_the_fields_it_names(app, demo):
    case_id = _offboarding_at_execution(app)
    with app.app_context():
        named = engine.state_spec(cases.get(case_id)).get("fields")
    assert named and "/late_payment_count" not in named
    refused = app.test_client().post(
        f"/api/v1/cases/{case_id}/actions/complete",
        json={"data": {"late_payment_count": 9}},
        headers=bearer(app, "staff"),
    )
    assert refused.status_code == 422
    assert refused.json["errors"][0]["pointer"] == "/data/late_payment_count"
    # the form of that step shows the facts read-only and keeps them whatever is posted
    staff = client_for(app, "staff")
    form = staff.get(f"/cases/{case_id}/edit")
    assert form.status_code == 200
    saved = staff.post_form(
        f"/cases/{case_id}/edit",
        {"/late_payment_count": "9", named[0]: "已安排结算", "case_action": "draft"},
        token_page=f"/cases/{case_id}/edit",
    )
    assert saved.status_code == 302, text(saved.get_data(as_text=True))[:1500]
    with app.app_context():
        data = cases.get(case_id).data
    assert data["late_payment_count"] == 3 and data[named[0].lstrip("/")] == "已安排结算"


# --- 8. reassignment and delegation lend no role ------------------------------------------


def test_a_step_reassigned_to_staff_does_not_let_them_take_a_finance_action(app, demo):
    case_id = deduction(app, submit=True, **complete_deduction(app))
    with app.app_context():
        case = cases.get(case_id)
        engine.perform(case, "approve", u("finance"))
        assert case.state == "executed"
        inbox.reassign(case, u("staff2"), u("manager"))  # staff2 may record a dispute there
        db.session.commit()
        names = [option.name for option in engine.available_actions(case, u("staff2"))]
        assert names == ["dispute"]
        with pytest.raises(Forbidden):
            engine.perform(case, "close", u("staff2"))


def test_delegation_only_to_someone_holding_the_role_and_never_to_approve_ones_own_case(app, demo):
    today = business_today()
    with app.app_context(), pytest.raises(Invalid) as refused:
        inbox.delegate(u("finance"), u("auditor"), today, today, u("finance"))
    assert refused.value.errors[0]["pointer"] == "/to"
    with app.app_context(), pytest.raises(Invalid):
        inbox.delegate(u("finance"), u("staff"), today, today, u("finance"))
    case_id = deduction(app, submit=True, **complete_deduction(app))
    with app.app_context():
        auth.create_user("finstaff", DEMO_PASSWORD, ["finance", "staff"], enforce_password_policy=False)
        db.session.commit()
        data = complete_deduction(app) | {"evidence": evidence("finstaff")}
        case = cases.start("deduction", "C005", data, submit=True, actor=u("finstaff"))
        inbox.delegate(u("finance"), u("finstaff"), today, today, u("finance"))
        db.session.commit()
        # their own case: neither in their own right nor as finance's delegate
        assert not engine.can_act(case, u("finstaff"), "approve")
        assert engine.can_act(cases.get(case_id), u("finstaff"), "approve")


# --- 9. file fields hold uploaded files ------------------------------------------------------


def test_a_file_field_refuses_text_in_the_form_and_the_api(app, demo):
    staff = client_for(app, "staff", "en")
    posted = staff.post_form(
        "/cases/new?process=deduction&customer=C005",
        {"/reason": "quality", "/amount": "10", "/incident_date": "2026-11-20", "/evidence": "no-file-at-all",
         "case_action": "submit"},
        token_page="/cases/new?process=deduction&customer=C005",
    )  # fmt: skip
    assert posted.status_code == 422 and "not an uploaded file" in text(posted.get_data(as_text=True))
    api = app.test_client().post(
        "/api/v1/cases",
        json={"process": "deduction", "customer": "C005", "submit": True,
              "data": {"reason": "quality", "amount": 10, "incident_date": "2026-11-20", "evidence": "x"}},
        headers=bearer(app, "staff"),
    )  # fmt: skip
    assert api.status_code == 422 and api.json["errors"][0]["pointer"] == "/data/evidence"


def test_an_api_client_uploads_evidence_and_uses_its_token(app, demo):
    client, headers = app.test_client(), bearer(app, "staff")
    uploaded = client.post(
        "/api/v1/attachments",
        data={
            "file": (io.BytesIO(PDF), "验收单.pdf", "application/pdf"),
            "process": "deduction",
            "field": "/evidence",
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 201
    body = uploaded.json
    assert body["filename"] == "验收单.pdf" and body["size"] == len(PDF) and len(body["sha256"]) == 64
    data = {"reason": "quality", "amount": 10, "incident_date": "2026-11-20", "evidence": body["token"]}
    created = client.post(
        "/api/v1/cases",
        json={"process": "deduction", "customer": "C005", "submit": True, "data": data},
        headers=headers,
    )
    assert created.status_code == 201 and created.json["state"] == "review"
    # someone else's token is not theirs to use
    other = client.post(
        "/api/v1/cases",
        json={"process": "deduction", "customer": "C005", "data": data},
        headers=bearer(app, "staff2"),
    )
    assert other.status_code == 422 and other.json["errors"][0]["pointer"] == "/data/evidence"


def test_an_api_upload_the_field_refuses_is_a_422(app, demo):
    refused = app.test_client().post(
        "/api/v1/attachments",
        data={"file": (io.BytesIO(b"MZ"), "run.exe", "application/x-msdownload"), "process": "deduction",
              "field": "/evidence"},
        headers=bearer(app, "staff"),
        content_type="multipart/form-data",
    )  # fmt: skip
    assert refused.status_code == 422 and refused.json["errors"][0]["pointer"] == "/file"
    missing = app.test_client().post("/api/v1/attachments", data={}, headers=bearer(app, "staff"))
    assert missing.status_code == 422


# --- 5. amounts are stored and shown normalised ----------------------------------------------


def test_an_amount_in_exponent_form_is_stored_and_shown_as_an_amount(app, demo):
    headers = bearer(app, "staff")
    with app.app_context():
        token = evidence("staff")
    raw = (
        '{"process": "deduction", "customer": "C005", "submit": true, "data": {"reason": "quality", '
        f'"amount": 4.99999e3, "incident_date": "2026-11-20", "evidence": "{token}"}}}}'
    )
    created = app.test_client().post(
        "/api/v1/cases", data=raw, headers=headers | {"Content-Type": "application/json"}
    )
    assert created.status_code == 201, created.json
    with app.app_context():
        case = cases.get(created.json["id"])
        assert str(case.data["amount"]) == "4999.99"
        engine.perform(case, "approve", u("finance"))
        engine.perform(case, "approve", u("manager"))  # above tier C's dual-approval threshold
        db.session.commit()
    from formflow.workflows.models import NoticeDocument

    with app.app_context():
        notice = db.session.execute(sa.select(NoticeDocument)).scalars().first()
        assert "4,999.99" in notice.body and "E+" not in notice.body
    page = text(client_for(app, "finance").get(f"/cases/{created.json['id']}").get_data(as_text=True))
    assert "4,999.99" in page
