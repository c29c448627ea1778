"""The checklist editor: a state's checklist edited as rows (no JSON), saved into a draft through
the spec's checks, each problem at its row and column, nothing half-saved."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from formflow.processes import revisions, services

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
URL = "/admin/processes/offboarding/checklists/execution"


@pytest.fixture
def published(publish_config):
    publish_config("offboarding")


def _form(page: str) -> dict:
    """The editor's fields as the browser would post them (checkboxes only when checked)."""
    data = {}
    for tag in re.findall(r"<(?:input|textarea|select)[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) in ("command",):
            continue
        key = name.group(1)
        if tag.startswith("<input") and 'type="checkbox"' in tag:
            if "checked" in tag:
                data[key] = "1"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[key] = html.unescape(value.group(1)) if value else ""
    for key, selected in re.findall(
        r'<select name="([^"]+)"[^>]*>.*?<option value="([^"]+)" selected', page, re.S
    ):
        data[key] = selected
    for key, text in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[key] = html.unescape(text)
    return data


def _items(app, number: int) -> list[dict]:
    with app.app_context():
        return services.version("offboarding", number).spec["workflow"]["states"]["execution"]["checklist"]


def test_the_editor_shows_the_checklist_as_rows(app, login_as, published):
    admin = login_as("admin")
    page = admin.get(URL).get_data(as_text=True)
    assert 'value="settle_account"' in page and 'value="结清账户（退还预存款或登记应收）"' in page
    assert 'name="count" value="5"' in page
    show = admin.get("/admin/processes/offboarding").get_data(as_text=True)
    assert URL in show  # the process page links each state's checklist


def test_add_an_item_and_save_makes_a_draft_and_leaves_the_published_version(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get(URL).get_data(as_text=True)
    added = admin.post_form(URL, {**_form(page), "command": "add"})
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    assert 'name="count" value="6"' in page and 'id="items-5-id"' in page and "autofocus" in page
    data = _form(page) | {
        "items-5-id": "lock_portal",
        "items-5-label_zh": "关闭客户门户",
        "items-5-label_en": "Lock the customer portal",
        "items-5-required": "condition",
        "items-5-condition": '{"==": [{"var": "data.has_deposit"}, true]}',
        "items-5-evidence": "1",
        "command": "save",
    }
    saved = admin.post_form(URL, data)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(URL)
    back = html.unescape(admin.get(URL).get_data(as_text=True))
    assert "is saved in draft version 2" in back and 'value="lock_portal"' in back
    assert _items(app, 2)[-1] == {
        "id": "lock_portal",
        "label": {"zh-CN": "关闭客户门户", "en": "Lock the customer portal"},
        "required": {"==": [{"var": "data.has_deposit"}, True]},
        "evidence": True,
    }
    assert _items(app, 2)[:5] == _items(app, 1)  # the others as they were
    assert len(_items(app, 1)) == 5  # the published version is untouched
    with app.app_context():
        assert revisions.of(services.version("offboarding", 2))[0].source == "checklist"


def test_move_and_remove_by_buttons(app, login_as, published):
    admin = login_as("admin")
    page = admin.get(URL).get_data(as_text=True)
    moved = admin.post_form(URL, {**_form(page), "command": "up:1"}).get_data(as_text=True)
    assert moved.index('value="end_services"') < moved.index('value="settle_account"')
    assert re.search(r'id="move-up-0"[^>]*autofocus', moved)  # focus stays on the moved row's button
    removed = admin.post_form(URL, {**_form(moved), "command": "remove:0"}).get_data(as_text=True)
    assert 'value="end_services"' not in removed and 'name="count" value="4"' in removed
    saved = admin.post_form(URL, {**_form(removed), "command": "save"})
    assert saved.status_code == 302
    assert [item["id"] for item in _items(app, 2)] == [
        "settle_account",
        "archive_data",
        "revoke_access",
        "return_deposit",
    ]


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"items-1-id": "settle_account"}, "id", "Another item already has this id."),
        ({"items-1-id": "Bad Id"}, "id", "lowercase letters, digits"),
        ({"items-1-label_zh": ""}, "label_zh", "Give the item a Chinese label."),
        ({"items-1-required": "condition", "items-1-condition": "{not json"}, "required", "JSONLogic"),
        (
            {"items-1-required": "condition", "items-1-condition": '{"var": "data.gone"}'},
            "required",
            "data.gone",
        ),
    ],
)
def test_bad_input_is_refused_at_its_row_and_nothing_is_saved(
    app, login_as, published, changes, column, message
):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get(URL).get_data(as_text=True)
    refused = admin.post_form(URL, {**_form(page), **changes, "command": "save"})
    assert refused.status_code == 422
    body = html.unescape(refused.get_data(as_text=True))
    error = re.search(rf'<small id="items-1-{column}-error" class="field-error">(.*?)</small>', body, re.S)
    assert error and message in error.group(1), body[body.find("field-error") - 300 :][:900]
    assert f'aria-describedby="items-1-{column}-error"' in body
    for value in changes.values():
        assert value in body  # kept as typed
    with app.app_context():
        assert services.latest_version("offboarding").number == 1  # nothing written


def test_a_save_on_top_of_someone_elses_is_a_conflict(app, login_as, published):
    first, second = login_as("admin"), login_as("admin")
    first_page, second_page = first.get(URL).get_data(as_text=True), second.get(URL).get_data(as_text=True)
    assert first.post_form(URL, {**_form(first_page), "command": "remove:4"}).status_code == 200
    assert (
        first.post_form(
            URL, {**_form(first_page), "items-0-label_en": "Settle", "command": "save"}
        ).status_code
        == 302
    )
    second.get("/lang/en")
    refused = second.post_form(URL, {**_form(second_page), "items-0-label_en": "Close", "command": "save"})
    assert refused.status_code == 409 and "your changes were not saved" in html.unescape(
        refused.get_data(as_text=True)
    )
    assert 'value="Close"' in refused.get_data(as_text=True)
    assert _items(app, 2)[0]["label"]["en"] == "Settle"


def test_a_state_without_a_checklist_place_is_not_found(login_as, published):
    assert login_as("admin").get("/admin/processes/offboarding/checklists/closed").status_code == 404
    assert login_as("staff").get(URL).status_code == 403


def test_every_problem_of_a_row_is_shown_at_once(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get(URL).get_data(as_text=True)
    refused = admin.post_form(
        URL, {**_form(page), "items-2-id": "Bad Id", "items-2-label_zh": "", "command": "save"}
    )
    body = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert 'id="items-2-id-error"' in body and 'id="items-2-label_zh-error"' in body
    assert body.count("Give the item a Chinese label.") == 1
