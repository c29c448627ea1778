"""The case pages: choose a process and customer, fill the generated form, drafts, the
case page, editing rules, and the form posting back exactly what it shows."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from cases.cases_support import new_user, publish_process, read_form
from werkzeug.datastructures import MultiDict

from formflow.audit.models import AuditEntry
from formflow.cases import services
from formflow.cases.models import Case
from formflow.extensions import db

NEW = "/cases/new?process=t_payment&customer=C100"


def _count(app, model=Case) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _case(app, case_id: int) -> Case:
    with app.app_context():
        case = services.get(case_id)
        db.session.expunge(case)
        return case


def _case_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/cases/(\d+)$", response.headers["Location"]).group(1))


def test_choosing_a_process_lists_published_ones_in_the_users_language(payment, customer, staff):
    page = staff.get("/cases/new")
    assert page.status_code == 200
    assert "测试缴费" in page.get_data(as_text=True)
    staff.raw.set_cookie("lang", "en")
    assert "Test payment" in staff.get("/cases/new").get_data(as_text=True)


def test_an_unknown_process_or_customer_is_shown_on_the_chooser(payment, customer, staff):
    page = staff.get("/cases/new?process=t_payment&customer=NOPE")
    assert page.status_code == 422
    assert 'id="customer-error"' in page.get_data(as_text=True)
    assert staff.get("/cases/new?process=nope&customer=C100").status_code == 422


def test_the_form_page_shows_the_generated_fields_and_both_buttons(payment, customer, staff):
    html = staff.get(NEW).get_data(as_text=True)
    assert 'name="/amount"' in html and 'name="/method"' in html
    assert 'value="submit"' in html and 'value="draft"' in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html


def test_submit_stores_typed_data_and_redirects_to_the_case(app, payment, customer, staff):
    response = staff.post_form(NEW, {"/amount": "12.50", "/method": "bank", "case_action": "submit"})
    case = _case(app, _case_id(response))
    assert case.state == "submitted" and case.data == {"amount": Decimal("12.50"), "method": "bank"}
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "12.5" in page and "Amount" in page


def test_invalid_submit_shows_errors_in_place_keeps_input_and_stores_nothing(app, payment, customer, staff):
    cases, audit = _count(app), _count(app, AuditEntry)
    response = staff.post_form(NEW, {"/amount": "abc", "/note": "keep me", "case_action": "submit"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert 'value="abc"' in html and "keep me" in html
    assert (_count(app), _count(app, AuditEntry)) == (cases, audit)


def test_a_draft_may_be_incomplete(app, payment, customer, staff):
    response = staff.post_form(NEW, {"/note": "call back", "case_action": "draft"})
    case = _case(app, _case_id(response))
    assert case.state == "draft" and case.data == {"note": "call back"}


def test_a_draft_is_still_type_checked(app, payment, customer, staff):
    response = staff.post_form(NEW, {"/amount": "-3", "case_action": "draft"})
    assert response.status_code == 422


def test_add_and_remove_row_rerender_without_saving(app, payment, customer, staff):
    cases = _count(app)
    added = staff.post_form(NEW, {"/note": "rows", "__rows:/items": "0", "__add": "/items"})
    assert added.status_code == 200
    html = added.get_data(as_text=True)
    assert 'name="/items/0/label"' in html and "rows" in html
    fields = dict(read_form(html).fields)
    fields.update({"/items/0/label": "first", "__add": "/items"})
    twice = staff.post_form(NEW, fields).get_data(as_text=True)
    assert 'name="/items/1/label"' in twice and 'value="first"' in twice
    fields = dict(read_form(twice).fields) | {"__remove": "/items/0"}
    removed = staff.post_form(NEW, fields).get_data(as_text=True)
    assert 'name="/items/1/label"' not in removed and 'value="first"' not in removed
    assert _count(app) == cases


def test_edit_a_draft_then_submit_it(app, payment, customer, staff):
    case_id = _case_id(staff.post_form(NEW, {"/note": "v1", "case_action": "draft"}))
    form = staff.get(f"/cases/{case_id}/edit")
    assert form.status_code == 200 and "v1" in form.get_data(as_text=True)
    fields = dict(read_form(form.get_data(as_text=True)).fields)
    fields.update({"/note": "v2", "/amount": "7", "/method": "cash", "case_action": "submit"})
    assert _case_id(staff.post_form(f"/cases/{case_id}/edit", fields)) == case_id
    case = _case(app, case_id)
    assert case.state == "submitted" and case.data == {"note": "v2", "amount": 7, "method": "cash"}


def test_a_submitted_case_cannot_be_edited(app, payment, customer, staff):
    case_id = _case_id(staff.post_form(NEW, {"/amount": "1", "/method": "cash", "case_action": "submit"}))
    assert staff.get(f"/cases/{case_id}/edit").status_code == 409
    assert staff.post_form(f"/cases/{case_id}/edit", {"/note": "x"}).status_code == 409
    assert f"/cases/{case_id}/edit" not in staff.get(f"/cases/{case_id}").get_data(as_text=True)


def test_other_staff_cannot_edit_a_draft_but_an_admin_can(app, payment, customer, staff, login_as):
    case_id = _case_id(staff.post_form(NEW, {"/note": "mine", "case_action": "draft"}))
    other = login_as("staff")
    assert other.get(f"/cases/{case_id}/edit").status_code == 403
    assert other.post_form(f"/cases/{case_id}/edit", {"/note": "theirs"}).status_code == 403
    assert other.get(f"/cases/{case_id}").status_code == 403  # a draft is its author's
    admin = login_as("admin")
    assert admin.get(f"/cases/{case_id}/edit").status_code == 200


def test_a_stale_edit_is_a_conflict(app, payment, customer, staff):
    case_id = _case_id(staff.post_form(NEW, {"/note": "v1", "case_action": "draft"}))
    stale = dict(read_form(staff.get(f"/cases/{case_id}/edit").get_data(as_text=True)).fields)
    fresh = dict(stale) | {"/note": "v2", "case_action": "draft"}
    assert staff.post_form(f"/cases/{case_id}/edit", fresh).status_code == 302
    stale |= {"/note": "v3", "case_action": "draft"}
    assert staff.post_form(f"/cases/{case_id}/edit", stale).status_code == 409
    assert _case(app, case_id).data["note"] == "v2"


def test_case_page_shows_titles_version_state_and_people(app, payment, customer, staff):
    case_id = _case_id(staff.post_form(NEW, {"/amount": "3", "/method": "bank", "case_action": "submit"}))
    html = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    for expected in (
        "Amount",
        "Method",
        "t_payment",
        "测试缴费",
        "v1",
        "C100",
        "上海测试有限公司",
        staff.username,
    ):
        assert expected in html
    assert html.count(staff.username) >= 2  # created by and submitted by


SCRIPT = "<script>alert(1)</script>"


def test_spec_text_is_escaped_on_every_page(app, customer, staff):
    with app.app_context():
        publish_process(
            "t_xss",
            schema={"type": "object", "properties": {"evil": {"type": "string", "title": SCRIPT}}},
            ui_schema={},
            name={"zh-CN": SCRIPT, "en": SCRIPT},
        )
    form = staff.get("/cases/new?process=t_xss&customer=C100").get_data(as_text=True)
    response = staff.post_form(
        "/cases/new?process=t_xss&customer=C100", {"/evil": SCRIPT, "case_action": "draft"}
    )
    case_page = staff.get(response.headers["Location"]).get_data(as_text=True)
    listing = staff.get("/cases/").get_data(as_text=True)
    chooser = staff.get("/cases/new").get_data(as_text=True)
    for html in (form, case_page, listing, chooser):
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


ROUND_TRIP_SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "title": "Amount"},
        "count": {"type": "integer", "title": "Count"},
        "method": {"type": "string", "title": "Method", "enum": ["bank", "cash", "online"]},
        "urgent": {"type": "boolean", "title": "Urgent"},
        "paid_on": {"type": "string", "format": "date", "title": "Paid on"},
        "note": {"type": "string", "title": "Note"},
        "tags": {"type": "array", "title": "Tags", "uniqueItems": True, "items": {"enum": ["a", "b", "c"]}},
        "payer": {
            "type": "object",
            "title": "Payer",
            "properties": {
                "name": {"type": "string", "title": "Name"},
                "vip": {"type": "boolean", "title": "VIP"},
            },
        },
        "lines": {
            "type": "array",
            "title": "Lines",
            "items": {
                "type": "object",
                "properties": {"label": {"type": "string", "title": "Label"}, "amount": {"type": "number"}},
            },
        },
    },
}
ROUND_TRIP_UI = {
    "note": {"ui:widget": "textarea"},
    "method": {"ui:widget": "radio"},
    "tags": {"ui:widget": "checkboxes"},
}
ROUND_TRIP_DATA = {
    "amount": Decimal("1234.56"),
    "count": 3,
    "method": "cash",
    "urgent": True,
    "paid_on": "2026-03-01",
    "note": '第一行 <b>second</b> & "quoted"',
    "tags": ["a", "c"],
    "payer": {"name": "张三 O'Brien", "vip": False},
    "lines": [{"label": "one", "amount": Decimal("0.10")}, {"label": "two", "amount": 2}],
}


# What a form can say: an unticked box is false; no ticked option leaves the list out.
SPARSE_DATA = {"note": "only this", "urgent": False, "payer": {"vip": False}}


@pytest.mark.parametrize("data", [ROUND_TRIP_DATA, SPARSE_DATA], ids=["full", "sparse"])
def test_the_rendered_form_posts_back_exactly_its_data(app, customer, client, data):
    with app.app_context():
        publish_process("t_round", schema=ROUND_TRIP_SCHEMA, ui_schema=ROUND_TRIP_UI)
        owner = new_user("roundtrip")
        case_id = services.start("t_round", "C100", data, submit=False, actor=owner).id
        db.session.commit()
    assert client.login("roundtrip").status_code == 302
    form = read_form(client.get(f"/cases/{case_id}/edit").get_data(as_text=True))
    posted = [*form.fields, ("case_action", "draft")]
    response = client.raw.post(f"/cases/{case_id}/edit", data=MultiDict(posted))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _case(app, case_id).data == data


def test_new_user_sees_no_edit_button_on_others_drafts(app, payment, customer, staff, login_as):
    case_id = _case_id(staff.post_form(NEW, {"/note": "mine", "case_action": "draft"}))
    assert f"/cases/{case_id}/edit" in staff.get(f"/cases/{case_id}").get_data(as_text=True)
    staff_member = login_as("staff")
    assert staff_member.get(f"/cases/{case_id}").status_code == 403
    admin = login_as("admin")  # an administrator may edit: the button shows
    assert f"/cases/{case_id}/edit" in admin.get(f"/cases/{case_id}").get_data(as_text=True)
    submitted = staff.post_form(
        f"/cases/{case_id}/edit", {"/amount": "1", "/method": "cash", "case_action": "submit"}
    )
    assert submitted.status_code == 302
    page = login_as("auditor").get(f"/cases/{case_id}")
    assert page.status_code == 200 and f"/cases/{case_id}/edit" not in page.get_data(as_text=True)


def test_unknown_case_is_404(staff):
    assert staff.get("/cases/999999").status_code == 404


def test_nav_has_cases_for_every_role(login_as):
    for role in ("auditor", "staff"):
        assert 'href="/cases/"' in login_as(role).get("/").get_data(as_text=True)


def test_a_textarea_with_line_breaks_round_trips(app, customer, client):
    data = {"note": "第一行\nsecond line", "urgent": False, "payer": {"vip": False}}
    with app.app_context():
        publish_process("t_round", schema=ROUND_TRIP_SCHEMA, ui_schema=ROUND_TRIP_UI)
        owner = new_user("roundtrip")
        case_id = services.start("t_round", "C100", data, submit=False, actor=owner).id
        db.session.commit()
    assert client.login("roundtrip").status_code == 302
    form = read_form(client.get(f"/cases/{case_id}/edit").get_data(as_text=True))
    response = client.raw.post(
        f"/cases/{case_id}/edit", data=MultiDict([*form.fields, ("case_action", "draft")])
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _case(app, case_id).data == data


def test_a_huge_case_number_is_404_not_an_error(staff):
    assert staff.get(f"/cases/{10**20}").status_code == 404
    assert staff.get(f"/cases/{10**20}/edit").status_code == 404


def test_read_only_fields_keep_their_value_whatever_is_posted(app, customer, staff):
    schema = {
        "type": "object",
        "properties": {
            "rate": {"type": "number", "title": "Rate", "default": 6},
            "note": {"type": "string", "title": "Note"},
        },
    }
    with app.app_context():
        publish_process("t_locked", schema=schema, ui_schema={"rate": {"ui:readonly": True}})
    url = "/cases/new?process=t_locked&customer=C100"
    case_id = _case_id(staff.post_form(url, {"/rate": "99", "/note": "a", "case_action": "draft"}))
    assert _case(app, case_id).data == {"rate": 6, "note": "a"}
    edited = {"/rate": "1", "/note": "b", "case_action": "draft"}
    assert _case_id(staff.post_form(f"/cases/{case_id}/edit", edited)) == case_id
    assert _case(app, case_id).data == {"rate": 6, "note": "b"}
