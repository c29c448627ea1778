"""The form designer as the admin uses it: the outline with a palette, adding fields of every
kind (into groups and repeating groups too), changing and removing fields, reordering by buttons
and by a drag and drop's post, and the preview by language, role and workflow step. Each save is
a draft; bad input is refused at the input (or the row) it concerns, nothing saved."""

from __future__ import annotations

import html
import re

import pytest

from formflow.processes import services

DESIGNER = "/admin/processes/deduction/form"
NEW = "/admin/processes/deduction/fields/new"


@pytest.fixture
def published(publish_config):
    publish_config("deduction")


def _base(page: str) -> str:
    return re.search(r'name="base"[^>]*value="([^"]*)"', page).group(1)


def _latest(app) -> tuple[int, dict]:
    with app.app_context():
        latest = services.latest_version("deduction")
        return latest.number, latest.spec


def _add(admin, settings: dict, status: int = 302):
    page = admin.get(NEW).get_data(as_text=True)
    answer = admin.post_form(NEW, {"command": "save", "base": _base(page), **settings})
    assert answer.status_code == status, answer.get_data(as_text=True)[:3000]
    return answer


def _edit(admin, field: str, changes: dict, status: int = 302):
    url = f"/admin/processes/deduction/fields/{field}/edit"
    page = admin.get(url).get_data(as_text=True)
    values = dict(re.findall(r'<input id="(\w+)" name="\1" value="([^"]*)"', page))
    values = {name: html.unescape(value) for name, value in values.items()}
    values["options"] = html.unescape(
        re.search(r'<textarea id="options"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    )
    for flag in ("required", "readonly"):
        if re.search(rf'name="{flag}" value="1" checked', page):
            values[flag] = "1"
    values["group"] = re.search(r'<option value="([^"]*)" selected', page.split('id="group"')[1]).group(1)
    values["kind"] = re.search(r'name="kind" value="([^"]*)"', page).group(1)
    answer = admin.post_form(url, {**values, **changes, "command": "save", "base": _base(page)})
    assert answer.status_code == status, answer.get_data(as_text=True)[:3000]
    return answer


def _designer_post(admin, url: str, data: dict, status: int = 302):
    page = admin.get(DESIGNER).get_data(as_text=True)
    answer = admin.post_form(url, {**data, "base": _base(page)})
    assert answer.status_code == status, answer.get_data(as_text=True)[:3000]
    return answer


def _error_at(body: str, ident: str) -> str:
    found = re.search(
        rf'<small id="{re.escape(ident)}-error" class="field-error"[^>]*>(.*?)</small>', body, re.S
    )
    assert found, body[:4000]
    return html.unescape(found.group(1))


def test_the_designer_lists_the_fields_in_order_with_a_palette_of_every_kind(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = html.unescape(admin.get(DESIGNER).get_data(as_text=True))
    names = re.findall(r'<li id="field-([\w/]+)"', page)
    assert names == ["reason", "reason_note", "amount", "incident_date", "description", "evidence"]
    for word in (
        "Date and time",
        "Choice (buttons)",
        "Several choices",
        "File upload",
        "Repeating group",
        "Group",
    ):
        assert f">{word}</a>" in page
    assert 'src="/static/vendor/sortablejs/Sortable.min.js"' in page
    assert 'data-testid="form-preview"' in page and 'name="/amount"' in page


@pytest.mark.parametrize(
    ("kind", "extra", "rendered"),
    [
        ("datetime", {}, 'type="datetime-local"'),
        ("radio", {"options": "a = 甲 | A\nb = 乙 | B"}, 'type="radio"'),
        ("multiselect", {"options": "a = 甲 | A\nb = 乙 | B", "default": "a, b"}, 'type="checkbox"'),
        ("file", {}, 'type="file"'),
        ("number", {"decimals": "3", "minimum": "1"}, 'step="0.001"'),
        ("textarea", {"max_length": "20", "pattern": "^[A-Z]+$"}, "<textarea"),
    ],
)
def test_each_kind_of_the_palette_is_added_and_rendered_by_the_form_engine(
    app, login_as, published, kind, extra, rendered
):
    admin = login_as("admin")
    _add(admin, {"key": "extra", "kind": kind, "title_zh": "附加", "title_en": "Extra", **extra})
    number, spec = _latest(app)
    assert number == 2 and "extra" in spec["form"]["schema"]["properties"]
    assert spec["form"]["uiSchema"]["ui:order"][-1] == "extra"
    page = admin.get(DESIGNER).get_data(as_text=True)
    preview = page[page.index('data-testid="form-preview"') :]
    field = preview[preview.index('name="/extra') - 400 : preview.index('name="/extra') + 400]
    assert rendered in field or rendered in preview, field
    if kind == "multiselect":
        assert spec["form"]["schema"]["properties"]["extra"]["default"] == ["a", "b"]


def test_a_group_and_a_repeating_group_take_fields_of_their_own(app, login_as, published):
    admin = login_as("admin")
    _add(admin, {"key": "contact", "kind": "group", "title_zh": "联系人"})
    _add(admin, {"key": "phone", "kind": "text", "title_zh": "电话", "group": "contact", "required": "1"})
    _add(admin, {"key": "lines", "kind": "repeat", "title_zh": "明细", "minimum": "1"})
    _add(admin, {"key": "cost", "kind": "money", "title_zh": "费用", "group": "lines"})
    _number, spec = _latest(app)
    contact = spec["form"]["schema"]["properties"]["contact"]
    assert contact["properties"]["phone"]["type"] == "string" and contact["required"] == ["phone"]
    lines = spec["form"]["schema"]["properties"]["lines"]
    assert lines["minItems"] == 1 and lines["items"]["properties"]["cost"]["multipleOf"] == 0.01
    assert spec["form"]["uiSchema"]["lines"]["items"]["cost"]["ui:title"]["zh-CN"] == "费用"
    page = admin.get(DESIGNER).get_data(as_text=True)
    assert 'id="field-contact/phone"' in page and 'id="field-lines/cost"' in page
    assert 'name="/contact/phone"' in page


def test_changing_a_field_keeps_what_the_designer_does_not_show(app, login_as, published):
    admin = login_as("admin")
    _edit(admin, "amount", {"maximum": "8000", "placeholder_zh": "例如 100", "placeholder_en": "e.g. 100"})
    saved = _edit(admin, "evidence", {"title_en": "Proof", "readonly": "1"})
    page = admin.get(saved.headers["Location"]).get_data(as_text=True)
    # the keyboard user's focus is back on the field just saved
    assert re.search(r'href="/admin/processes/deduction/fields/evidence/edit"[^>]*autofocus', page)
    number, spec = _latest(app)
    assert number == 2  # one draft, two revisions
    amount = spec["form"]["schema"]["properties"]["amount"]
    assert amount["maximum"] == 8000 and amount["exclusiveMinimum"] == 0 and amount["multipleOf"] == 0.01
    assert spec["form"]["uiSchema"]["amount"]["ui:placeholder"] == {"zh-CN": "例如 100", "en": "e.g. 100"}
    evidence = spec["form"]["uiSchema"]["evidence"]
    assert evidence["ui:options"]["accept"] == [".pdf", "image/*"] and evidence["ui:readonly"] is True
    assert evidence["ui:title"] == {"zh-CN": "证据附件", "en": "Proof"}
    assert "amount" in spec["form"]["schema"]["required"]  # it was required, and stays so


def test_a_condition_set_then_cleared_adds_and_removes_the_fields_own_rule(app, login_as, published):
    admin = login_as("admin")
    _edit(admin, "description", {"when_field": "reason", "when_value": "other"})
    rules = _latest(app)[1]["rules"]
    own = [rule for rule in rules if rule["id"] == "show-description"]
    assert (
        own
        and own[0]["when"] == {"==": [{"var": "data.reason"}, "other"]}
        and own[0]["field"] == "/description"
    )
    page = admin.get("/admin/processes/deduction/fields/description/edit").get_data(as_text=True)
    assert (
        '<option value="reason" selected>' in page
        and 'href="/admin/processes/deduction/rules/show-description/edit"' in page
    )
    assert "/admin/processes/deduction/rules/new?kind=required&amp;target=/description" in page
    _edit(admin, "description", {"when_field": "", "when_value": ""})
    assert not [rule for rule in _latest(app)[1]["rules"] if rule["id"] == "show-description"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"pattern": "(unclosed"}, "pattern", ""),
        ({"max_length": "many"}, "max_length", "Not a whole number."),
        ({"default": "x" * 600}, "default", ""),
        ({"title_zh": ""}, "title_zh", "Give the field a Chinese label."),
        ({"when_field": "reason_note"}, "when_field", "Choose a field of the form."),
    ],
)
def test_a_bad_change_is_refused_at_its_input(app, login_as, published, changes, field, words):
    admin = login_as("admin")
    admin.get("/lang/en")
    answer = _edit(admin, "reason_note", changes, status=422)
    body = answer.get_data(as_text=True)
    assert words in _error_at(body, field)
    assert f'aria-describedby="{field}-error"' in body
    assert _latest(app)[0] == 1


def test_a_default_must_be_one_of_a_choices_options(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    answer = _edit(admin, "reason", {"default": "nonsense"}, status=422)
    assert "one of the options" in _error_at(answer.get_data(as_text=True), "default")
    _edit(admin, "reason", {"default": "other"})
    assert _latest(app)[1]["form"]["schema"]["properties"]["reason"]["default"] == "other"


def test_a_field_still_used_is_not_removed_and_the_row_says_by_what(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    answer = _designer_post(admin, "/admin/processes/deduction/fields/amount/remove", {}, status=422)
    message = _error_at(answer.get_data(as_text=True), "field-amount")
    assert "still used by" in message and "the workflow step" in message and "the rule" in message
    assert _latest(app)[0] == 1
    _designer_post(admin, "/admin/processes/deduction/fields/description/remove", {})
    number, spec = _latest(app)
    assert number == 2 and "description" not in spec["form"]["schema"]["properties"]
    assert "description" not in spec["form"]["uiSchema"]["ui:order"]


def test_moving_by_buttons_and_by_a_drag_and_drops_order(app, login_as, published):
    admin = login_as("admin")
    moved = _designer_post(admin, "/admin/processes/deduction/fields/amount/move", {"direction": "up"})
    assert "focus=move--1-amount" in moved.headers["Location"]
    order = _latest(app)[1]["form"]["uiSchema"]["ui:order"]
    assert order[:3] == ["reason", "amount", "reason_note"]
    page = admin.get(moved.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="move--1-amount"[^>]*autofocus', page)  # the keyboard user's focus is kept
    new_order = ["evidence", "reason", "amount", "reason_note", "incident_date", "description"]
    _designer_post(
        admin, "/admin/processes/deduction/form/order", {"group": "", "order": ",".join(new_order)}
    )
    assert _latest(app)[1]["form"]["uiSchema"]["ui:order"] == new_order
    stale = _designer_post(
        admin, "/admin/processes/deduction/form/order", {"group": "", "order": "evidence,reason"}, status=422
    )
    assert "spec-errors" in stale.get_data(as_text=True)


def test_dragging_a_field_into_a_group_moves_it_unless_a_rule_reads_it_there(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    _add(admin, {"key": "more", "kind": "group", "title_zh": "更多"})
    into = {"group": "more", "order": "description", "moved": "description"}
    _designer_post(admin, "/admin/processes/deduction/form/order", into)
    spec = _latest(app)[1]
    assert "description" in spec["form"]["schema"]["properties"]["more"]["properties"]
    assert "description" not in spec["form"]["schema"]["properties"]
    refused = {"group": "more", "order": "description,amount", "moved": "amount"}
    answer = _designer_post(admin, "/admin/processes/deduction/form/order", refused, status=422)
    assert "field-amount-error" in answer.get_data(as_text=True)
    assert "amount" in _latest(app)[1]["form"]["schema"]["properties"]


def test_the_preview_speaks_the_chosen_language_and_shows_the_chosen_step(app, login_as, published):
    admin = login_as("admin")
    english = admin.get(DESIGNER + "?preview_language=en").get_data(as_text=True)
    preview = english[english.index('data-testid="form-preview"') :]
    assert "Amount (CNY)" in preview and "扣款金额" not in preview
    chinese = admin.get(DESIGNER).get_data(as_text=True)
    assert "扣款金额（元）" in chinese[chinese.index('data-testid="form-preview"') :]
    review = admin.get(DESIGNER + "?preview_state=review&preview_role=manager").get_data(as_text=True)
    shown = review[review.index('data-testid="form-preview"') :]
    assert re.search(r'name="/amount"[^>]*readonly', shown)  # an approval step changes no field
    assert '<option value="manager" selected>' in review
    start = admin.get(DESIGNER + "?preview_state=draft").get_data(as_text=True)
    assert not re.search(r'name="/amount"[^>]*readonly', start[start.index('data-testid="form-preview"') :])
