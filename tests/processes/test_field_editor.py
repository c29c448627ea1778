"""Adding a form field without JSON: schema, layout, order and a visibility rule written for the
admin; a preview of the form; bad input refused at its field, nothing saved."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from formflow.processes import services

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
URL = "/admin/processes/deduction/fields/new"
PENALTY = {
    "key": "penalty",
    "kind": "money",
    "after": "amount",
    "title_zh": "违约金（元）",
    "title_en": "Penalty (CNY)",
    "maximum": "5,000",
    "when_field": "reason",
    "when_value": "late_delivery",
}


@pytest.fixture
def published(publish_config):
    publish_config("deduction")


def _base(page: str) -> str:
    return re.search(r'name="base"[^>]*value="([^"]*)"', page).group(1)


def test_preview_then_save_writes_the_field_its_place_and_its_rule(app, login_as, published):
    admin = login_as("admin")
    page = admin.get(URL).get_data(as_text=True)
    preview = admin.post_form(URL, {**PENALTY, "command": "preview", "base": _base(page)})
    assert preview.status_code == 200 and 'name="/penalty"' in preview.get_data(as_text=True)
    with app.app_context():
        assert services.latest_version("deduction").number == 1  # a preview saves nothing
    saved = admin.post_form(URL, {**PENALTY, "command": "save", "base": _base(page)})
    assert saved.status_code == 302
    with app.app_context():
        spec = services.version("deduction", 2).spec
    form = spec["form"]
    assert form["schema"]["properties"]["penalty"] == {
        "title": "违约金（元）",
        "type": "number",
        "multipleOf": 0.01,
        "maximum": 5000,
    }
    assert form["uiSchema"]["penalty"]["ui:title"] == {"zh-CN": "违约金（元）", "en": "Penalty (CNY)"}
    order = form["uiSchema"]["ui:order"]
    assert order.index("penalty") == order.index("amount") + 1
    assert spec["rules"][-1]["kind"] == "visible" and spec["rules"][-1]["when"] == {
        "==": [{"var": "data.reason"}, "late_delivery"]
    }


def test_a_choice_gets_its_options_with_labels(app, login_as, published):
    admin = login_as("admin")
    page = admin.get(URL).get_data(as_text=True)
    choice = {
        "key": "channel",
        "kind": "select",
        "title_zh": "渠道",
        "options": "phone = 电话 | Phone\nmail = 邮件 | Mail",
        "required": "1",
    }
    assert admin.post_form(URL, {**choice, "command": "save", "base": _base(page)}).status_code == 302
    with app.app_context():
        form = services.version("deduction", 2).spec["form"]
    assert form["schema"]["properties"]["channel"]["oneOf"] == [
        {"const": "phone", "title": "电话"},
        {"const": "mail", "title": "邮件"},
    ]
    assert form["uiSchema"]["channel"]["ui:enumNames"] == [
        {"zh-CN": "电话", "en": "Phone"},
        {"zh-CN": "邮件", "en": "Mail"},
    ]
    assert "channel" in form["schema"]["required"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"key": "amount"}, "key", "Another field already has this key."),
        ({"key": "Bad Key"}, "key", "lowercase letter"),
        ({"title_zh": ""}, "title_zh", "Give the field a Chinese label."),
        ({"maximum": "lots"}, "maximum", "Not a number."),
        ({"kind": "select", "options": ""}, "options", "A choice needs its options."),
        ({"kind": "select", "options": "no label"}, "options", "value = 中文 | English"),
        ({"when_field": "gone"}, "when_field", "Choose a field of the form."),
    ],
)
def test_bad_input_is_refused_at_its_field(app, login_as, published, changes, field, words):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get(URL).get_data(as_text=True)
    refused = admin.post_form(URL, {**PENALTY, **changes, "command": "save", "base": _base(page)})
    assert refused.status_code == 422
    body = html.unescape(refused.get_data(as_text=True))
    message = re.search(rf'<small id="{field}-error" class="field-error">(.*?)</small>', body, re.S)
    assert message and words in message.group(1), body[body.find("field-error") - 200 :][:600]
    assert f'aria-describedby="{field}-error"' in body
    with app.app_context():
        assert services.latest_version("deduction").number == 1
