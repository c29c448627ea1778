"""Checklists: items of the case's state and round, ticking with evidence, who may tick,
required items (also by rule) that block an action, version pinning, the page's form."""

from __future__ import annotations

import copy
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from formflow.audit.models import AuditEntry
from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases.models import Attachment
from formflow.customers import services as customers
from formflow.errors import Forbidden, Invalid, NotFound
from formflow.extensions import db
from formflow.processes import services as processes
from formflow.workflows import checklists, engine

CHECKLIST = [
    {"id": "settle", "label": {"zh-CN": "结清账户", "en": "Settle the account"}, "required": True},
    {
        "id": "archive",
        "label": {"zh-CN": "归档资料", "en": "Archive the data"},
        # only for larger balances
        "required": {">": [{"var": "data.amount"}, 1000]},
    },
    {
        "id": "revoke",
        "label": {"zh-CN": "撤销权限", "en": "Revoke access"},
        "required": True,
        "evidence": True,
    },
    {"id": "thank", "label": {"zh-CN": "致谢", "en": "Say thank you"}, "required": False},
]

SPEC = {
    "formflow": 1,
    "key": "wf_clearance",
    "category": "offboarding",
    "name": {"zh-CN": "清退执行", "en": "Clearance"},
    "form": {
        "schema": {"type": "object", "properties": {"amount": {"type": "number", "minimum": 0}}},
    },
    "workflow": {
        "start": "draft",
        "states": {
            "draft": {"kind": "form", "actions": {"submit": {"to": "execution", "roles": ["staff"]}}},
            "execution": {
                "kind": "automatic",
                "assignee": {"role": "finance"},
                "checklist": CHECKLIST,
                "actions": {
                    "execute": {"to": "closed", "roles": ["finance", "manager"], "requires": ["checklist"]},
                    "return": {"to": "draft", "roles": ["finance"]},
                },
            },
            "closed": {"kind": "final"},
        },
    },
}


@pytest.fixture
def world(app):
    with app.app_context():
        processes.import_spec(SPEC)
        processes.publish(SPEC["key"])
        customers.create("K100", "清退测试", "B")
        for name, roles in {
            "staff1": ["staff"],
            "fin1": ["finance"],
            "mgr1": ["manager"],
            "risk1": ["risk"],
        }.items():
            auth.create_user(name, "correct-horse-9", roles)
        db.session.commit()


def user(name):
    return auth.find_user(name)


def new_case(amount="500", key="wf_clearance"):
    case = cases.start(key, "K100", {"amount": Decimal(amount)}, submit=True, actor=user("staff1"))
    db.session.flush()
    return case


def audit_actions(case) -> list[str]:
    return list(
        db.session.execute(
            sa.select(AuditEntry.action)
            .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case.id))
            .order_by(AuditEntry.seq)
        ).scalars()
    )


def evidence_file(content=b"revocation log", name="revoked.txt"):
    return FileStorage(io.BytesIO(content), name, content_type="text/plain")


# --- items, required, missing --------------------------------------------------------------


def test_items_follow_the_spec_and_start_undone(world, app_ctx):
    case = new_case()
    assert case.state == "execution"
    found = checklists.items(case)
    assert [i.id for i in found] == ["settle", "archive", "revoke", "thank"]
    assert [(i.required, i.evidence, i.done) for i in found] == [
        (True, False, False),
        (False, False, False),  # 500 is not above 1000
        (True, True, False),
        (False, False, False),
    ]
    assert found[0].label_text("en") == "Settle the account" and found[0].label_text("zh-CN") == "结清账户"
    assert checklists.missing(case) == ["settle", "revoke"]


def test_a_rule_makes_an_item_required_for_larger_amounts(world, app_ctx):
    case = new_case("5000")
    assert checklists.missing(case) == ["settle", "archive", "revoke"]


def test_ticking_completes_the_checklist_and_unblocks_the_action(world, app_ctx):
    case = new_case()
    with pytest.raises(Invalid) as blocked:
        engine.perform(case, "execute", user("fin1"))
    assert blocked.value.errors[0]["pointer"] == "/checklist"
    # the refusal names the items by their labels, never their ids
    message = blocked.value.errors[0]["message"]
    assert "结清账户" in message and "撤销权限" in message and "settle" not in message

    view = checklists.tick(case, "settle", user("fin1"), note="  paid out  ")
    assert (view.done, view.note, view.user.username) == (True, "paid out", "fin1") and view.at is not None
    checklists.tick(case, "revoke", user("mgr1"), note="access removed in the portal")
    assert checklists.missing(case) == []

    assert engine.perform(case, "execute", user("fin1")).state == "closed"
    assert audit_actions(case).count("checklist.tick") == 2


def test_untick_makes_the_item_missing_again(world, app_ctx):
    case = new_case()
    checklists.tick(case, "settle", user("fin1"))
    view = checklists.tick(case, "settle", user("fin1"), done=False, note="the payment bounced")
    assert (view.done, view.note) == (False, "the payment bounced")
    assert checklists.missing(case) == ["settle", "revoke"]
    assert audit_actions(case)[-2:] == ["checklist.tick", "checklist.untick"]
    entry = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == "checklist.untick")
    ).scalar_one()
    assert entry.before["done"] is True and entry.after == {
        "state": "execution",
        "round": case.state_round,
        "item": "settle",
        "done": False,
        "note": "the payment bounced",
        "attachment": None,
    }


def test_optional_items_can_be_ticked_without_changing_what_is_missing(world, app_ctx):
    case = new_case()
    checklists.tick(case, "thank", user("fin1"))
    assert checklists.missing(case) == ["settle", "revoke"]
    assert [i.done for i in checklists.items(case)] == [False, False, False, True]


# --- evidence ------------------------------------------------------------------------------


def test_an_item_needing_evidence_refuses_a_tick_without_note_or_file(world, app_ctx):
    case = new_case()
    with pytest.raises(Invalid) as refused:
        checklists.tick(case, "revoke", user("fin1"), note="   ")
    assert refused.value.errors[0]["pointer"] == "/note"
    assert checklists.missing(case) == ["settle", "revoke"]
    # unticking needs no evidence
    checklists.tick(case, "revoke", user("fin1"), done=False)


def test_a_file_is_evidence_and_lands_on_the_case(world, app_ctx):
    case = new_case()
    token = checklists.store_evidence(case, "revoke", evidence_file(), user("fin1"))
    view = checklists.tick(case, "revoke", user("fin1"), attachment_token=token)
    assert view.done and view.attachment_token == token and view.note == ""
    attachment = db.session.execute(sa.select(Attachment).where(Attachment.token == token)).scalar_one()
    assert attachment.case_id == case.id and attachment.uploaded_by_id == user("fin1").id
    assert attachment.field == "checklist:execution/revoke" and attachment.filename == "revoked.txt"


def test_evidence_stays_on_a_case_sent_back_to_its_form_and_outlives_the_upload_clean_up(world, app_ctx):
    from datetime import timedelta

    from formflow.cases import uploads
    from formflow.extensions import utcnow

    case = new_case()
    stored_here = checklists.store_evidence(case, "revoke", evidence_file(), user("fin1"))
    checklists.tick(case, "revoke", user("fin1"), attachment_token=stored_here)
    # a file uploaded on its own first (as the API does), then ticked by its token
    uploaded_first = uploads.new_attachment(
        evidence_file(b"settlement slip"), field="", actor=user("fin1")
    ).token
    checklists.tick(case, "settle", user("fin1"), attachment_token=uploaded_first)
    engine.perform(case, "return", user("fin1"))
    cases.save(case, {"amount": Decimal("600")}, submit=False, actor=user("staff1"))  # the data names no file
    for row in db.session.execute(sa.select(Attachment)).scalars():
        row.created_at = utcnow() - timedelta(days=30)
    db.session.commit()
    assert uploads.remove_orphan_uploads(utcnow() + timedelta(days=2)).uploads == 0
    rows = db.session.execute(sa.select(Attachment.token, Attachment.case_id)).all()
    assert sorted(rows) == sorted([(stored_here, case.id), (uploaded_first, case.id)])


def test_someone_elses_or_another_cases_file_is_not_evidence(world, app_ctx):
    case, other = new_case(), new_case()
    foreign = checklists.store_evidence(other, "revoke", evidence_file(b"other"), user("fin1"))
    with pytest.raises(Invalid) as refused:
        checklists.tick(case, "revoke", user("fin1"), attachment_token=foreign)
    assert refused.value.errors[0]["pointer"] == "/attachment"
    with pytest.raises(Invalid):
        checklists.tick(case, "revoke", user("fin1"), attachment_token="att_" + "x" * 28)


def test_a_note_longer_than_the_limit_is_refused(world, app_ctx):
    case = new_case()
    with pytest.raises(Invalid) as refused:
        checklists.tick(case, "settle", user("fin1"), note="x" * (checklists.NOTE_LIMIT + 1))
    assert refused.value.errors[0]["pointer"] == "/note"


# --- who may tick, what may be ticked ------------------------------------------------------


@pytest.mark.parametrize(
    "name, allowed", [("fin1", True), ("mgr1", True), ("staff1", False), ("risk1", False)]
)
def test_only_those_who_act_on_the_state_may_tick(world, app_ctx, name, allowed):
    case = new_case()
    assert checklists.can_tick(case, user(name)) is allowed
    if allowed:
        assert checklists.tick(case, "settle", user(name)).done
    else:
        with pytest.raises(Forbidden):
            checklists.tick(case, "settle", user(name))
        with pytest.raises(Forbidden):
            checklists.store_evidence(case, "revoke", evidence_file(), user(name))


def test_an_unknown_item_or_a_state_without_checklist_is_not_found(world, app_ctx):
    case = new_case()
    with pytest.raises(NotFound):
        checklists.tick(case, "no-such-item", user("fin1"))
    draft = cases.start("wf_clearance", "K100", {"amount": 1}, submit=False, actor=user("staff1"))
    assert checklists.items(draft) == [] and checklists.missing(draft) == []
    with pytest.raises(NotFound):
        checklists.tick(draft, "settle", user("staff1"))


def test_a_closed_case_checklist_no_longer_changes(world, app_ctx):
    case = new_case()
    checklists.tick(case, "settle", user("fin1"))
    checklists.tick(case, "revoke", user("fin1"), note="done")
    engine.perform(case, "execute", user("fin1"))
    assert case.closed_at is not None and checklists.can_tick(case, user("fin1")) is False
    with pytest.raises(NotFound):  # a final state has no checklist
        checklists.tick(case, "settle", user("fin1"), done=False)


def test_reentering_the_state_starts_a_fresh_checklist(world, app_ctx):
    case = new_case()
    first_round = case.state_round
    checklists.tick(case, "settle", user("fin1"))
    engine.perform(case, "return", user("fin1"))
    engine.perform(case, "submit", user("staff1"))
    assert case.state == "execution" and case.state_round > first_round
    assert checklists.missing(case) == ["settle", "revoke"]


# --- version pinning -----------------------------------------------------------------------


def test_a_case_keeps_the_checklist_of_its_version(world, app_ctx):
    old = new_case()
    v2 = copy.deepcopy(SPEC)
    v2["workflow"]["states"]["execution"]["checklist"].append(
        {"id": "notify-bank", "label": {"zh-CN": "通知银行", "en": "Notify the bank"}, "required": True}
    )
    processes.import_spec(v2)
    assert processes.publish(SPEC["key"]).number == 2
    db.session.flush()
    new = new_case()
    assert new.version.number == 2 and old.version.number == 1
    assert [i.id for i in checklists.items(old)] == ["settle", "archive", "revoke", "thank"]
    assert [i.id for i in checklists.items(new)] == ["settle", "archive", "revoke", "thank", "notify-bank"]
    assert checklists.missing(new) == ["settle", "revoke", "notify-bank"]
    with pytest.raises(NotFound):
        checklists.tick(old, "notify-bank", user("fin1"))


# --- over HTTP -----------------------------------------------------------------------------


def _case_id(app) -> int:
    with app.app_context():
        case = new_case()
        db.session.commit()
        return case.id


def _login(client, username):
    assert client.login(username).status_code == 302
    return client


def _post(client, url, fields, **files):
    data = {"csrf_token": client.csrf_token("/"), **fields, **files}
    return client.raw.post(url, data=data, content_type="multipart/form-data")


def test_ticking_over_http_redirects_to_the_checklist(app, world, client):
    case_id = _case_id(app)
    finance = _login(client, "fin1")
    response = _post(finance, f"/cases/{case_id}/checklist/settle", {"note": "paid"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/cases/{case_id}#checklist")
    with app.app_context():
        [settle] = [i for i in checklists.items(cases.get(case_id)) if i.id == "settle"]
        assert (settle.done, settle.note) == (True, "paid")
    page = finance.get(f"/cases/{case_id}").get_data(as_text=True)  # the case page shows the panel
    assert 'id="checklist-settle" class="checklist-item done"' in page and ">paid</blockquote>" in page
    untick = _post(finance, f"/cases/{case_id}/checklist/settle", {"done": "0"})
    assert untick.status_code == 303
    with app.app_context():
        assert checklists.missing(cases.get(case_id)) == ["settle", "revoke"]


def test_a_file_upload_over_http_is_the_evidence(app, world, client):
    case_id = _case_id(app)
    finance = _login(client, "fin1")
    upload = (io.BytesIO(b"portal export"), "撤销记录.txt", "text/plain")
    response = _post(finance, f"/cases/{case_id}/checklist/revoke", {}, file=upload)
    assert response.status_code == 303
    with app.app_context():
        [revoke] = [i for i in checklists.items(cases.get(case_id)) if i.id == "revoke"]
        assert revoke.done and revoke.attachment_token
        attachment = db.session.execute(
            sa.select(Attachment).where(Attachment.token == revoke.attachment_token)
        ).scalar_one()
        assert (attachment.case_id, attachment.filename) == (case_id, "撤销记录.txt")
    download = finance.get(f"/cases/attachments/{revoke.attachment_token}")
    assert download.status_code == 200 and download.get_data() == b"portal export"
    download.close()


def test_missing_evidence_over_http_is_flashed_and_nothing_is_stored(app, world, client):
    case_id = _case_id(app)
    finance = _login(client, "fin1")
    response = _post(finance, f"/cases/{case_id}/checklist/revoke", {"note": ""})
    assert response.status_code == 303
    page = finance.get("/").get_data(as_text=True)  # the flash shows on the next page
    assert "flash-error" in page
    with app.app_context():
        assert "revoke" in checklists.missing(cases.get(case_id))


@pytest.mark.parametrize("name, status", [("staff1", 403), ("risk1", 403)])
def test_a_user_who_cannot_act_gets_403(app, world, client, name, status):
    case_id = _case_id(app)
    other = _login(client, name)
    assert _post(other, f"/cases/{case_id}/checklist/settle", {}).status_code == status


def test_an_unknown_item_over_http_is_404(app, world, client):
    case_id = _case_id(app)
    finance = _login(client, "fin1")
    assert _post(finance, f"/cases/{case_id}/checklist/nope", {}).status_code == 404
    assert _post(finance, "/cases/999999/checklist/settle", {}).status_code == 404


def test_without_csrf_nothing_is_ticked(app, world, client):
    case_id = _case_id(app)
    finance = _login(client, "fin1")
    assert finance.raw.post(f"/cases/{case_id}/checklist/settle", data={}).status_code == 400
    with app.app_context():
        assert "settle" in checklists.missing(cases.get(case_id))


# --- the panel -----------------------------------------------------------------------------


def _panel(app, case_id, username, language="en") -> str:
    with app.test_request_context("/", headers={"Cookie": f"lang={language}"}):
        from flask_login import login_user

        login_user(user(username))
        case = cases.get(case_id)
        template = app.jinja_env.get_template("workflows/_checklist.html")
        return template.module.checklist_panel(
            case, checklists.items(case), checklists.can_tick(case, user(username))
        )


def test_the_panel_lists_items_with_forms_for_those_who_may_tick(app, world):
    case_id = _case_id(app)
    with app.app_context():
        checklists.tick(cases.get(case_id), "settle", user("fin1"), note="<script>alert(1)</script>")
        db.session.commit()
        html = str(_panel(app, case_id, "fin1"))
        assert 'id="checklist"' in html and "Settle the account" in html and "Revoke access" in html
        assert "1 of 4 done" in html
        assert "&lt;script&gt;" in html and "<script>" not in html  # notes are escaped
        assert len(re.findall(r'<form method="post"', html)) == 4
        assert f'action="/cases/{case_id}/checklist/settle"' in html
        readonly = str(_panel(app, case_id, "staff1", "zh-CN"))
        assert "结清账户" in readonly and "<form" not in readonly


def test_the_panel_is_empty_without_a_checklist(app, world):
    with app.app_context():
        draft = cases.start("wf_clearance", "K100", {}, submit=False, actor=user("staff1"))
        db.session.commit()
        draft_id = draft.id
    assert str(_panel(app, draft_id, "fin1")).strip() == ""
