"""Issue 5, point 8 as staff meet it: the spec's rules run live on the case form. A field
appears and disappears with an answer, the computed fee follows the amount while typing, a
tier-threshold message shows and goes away, a row's field becomes required — and the
server, re-evaluating on submit, agrees."""

from __future__ import annotations

import json
import re

import pytest
from browser_support import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.live_db]

LIMIT_MESSAGE = "Above the tier's single-deduction limit"
REASON = re.compile(r"^Reason\*?$")  # "*": the required mark is part of the label

SPEC = {
    "formflow": 1,
    "key": "live_deduction",
    "category": "deduction",
    "name": {"zh-CN": "实时扣款", "en": "Live deduction"},
    "form": {
        "schema": {
            "type": "object",
            "required": ["amount", "reason"],
            "properties": {
                "amount": {"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0},
                "fee": {"type": "number", "multipleOf": 0.01},
                "reason": {"type": "string", "enum": ["overdue", "other"]},
                "reason_note": {"type": "string", "maxLength": 200},
                "instalments": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "method": {"type": "string", "enum": ["cash", "bank"]},
                            "bank_account": {"type": "string", "maxLength": 40},
                        },
                    },
                },
            },
        },
        "uiSchema": {
            "ui:order": ["amount", "fee", "reason", "reason_note", "instalments"],
            "amount": {"ui:title": {"zh-CN": "扣款金额", "en": "Amount"}},
            "fee": {"ui:title": {"zh-CN": "手续费", "en": "Fee"}},
            "reason": {
                "ui:title": {"zh-CN": "原因", "en": "Reason"},
                "ui:enumNames": [{"zh-CN": "逾期", "en": "Overdue"}, {"zh-CN": "其他", "en": "Other"}],
            },
            "reason_note": {"ui:title": {"zh-CN": "原因说明", "en": "Reason note"}},
            "instalments": {
                "ui:title": {"zh-CN": "分期", "en": "Instalments"},
                "items": {
                    "method": {
                        "ui:title": {"zh-CN": "方式", "en": "Method"},
                        "ui:enumNames": [{"zh-CN": "现金", "en": "Cash"}, {"zh-CN": "银行", "en": "Bank"}],
                    },
                    "bank_account": {"ui:title": {"zh-CN": "银行账号", "en": "Bank account"}},
                },
            },
        },
    },
    "rules": [
        {
            "id": "show-reason-note",
            "kind": "visible",
            "field": "/reason_note",
            "when": {"==": [{"var": "data.reason"}, "other"]},
        },
        {
            "id": "fee",
            "kind": "compute",
            "field": "/fee",
            "value": {"if": [{"var": "data.amount"}, {"money": {"*": [{"var": "data.amount"}, 0.06]}}, None]},
        },
        {
            "id": "amount-within-tier-limit",
            "kind": "validate",
            "field": "/amount",
            "when": {
                "<=": [
                    {"var": "data.amount"},
                    {"lookup": ["deduction_limits", {"var": "customer.tier"}, "max_single"]},
                ]
            },
            "message": {"zh-CN": "超过该等级单笔扣款上限", "en": LIMIT_MESSAGE},
        },
        {
            "id": "bank-account-for-bank",
            "kind": "required",
            "field": "/instalments/*/bank_account",
            "when": {"==": [{"var": "row.method"}, "bank"]},
        },
    ],
    "tables": [
        {
            "key": "deduction_limits",
            "keyColumn": "tier",
            "columns": [{"name": "tier", "type": "text"}, {"name": "max_single", "type": "money"}],
            "rows": [["A", 50000], ["B", 20000], ["C", 5000]],
        }
    ],
    "tests": [],
}


@pytest.fixture
def published(live_app, live_server, tmp_path):
    """The spec imported and published (the live server's demo data is in place)."""
    template = tmp_path / "live_deduction.json"
    template.write_text(json.dumps(SPEC, ensure_ascii=False), encoding="utf-8")
    runner = live_app.test_cli_runner()
    imported = runner.invoke(args=["formflow", "import", str(template)])
    assert imported.exit_code == 0, imported.output
    published = runner.invoke(args=["formflow", "publish", SPEC["key"]])
    assert published.exit_code == 0, published.output
    return SPEC["key"]


def log_in(page, username: str) -> None:
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("demo")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/")


def use_english(page) -> None:
    page.context.add_cookies([{"name": "lang", "value": "en", "url": page.url}])


def field_box(page, label: str):
    return page.locator(".ff-field", has=page.get_by_label(label))


def test_fields_appear_previews_follow_and_messages_show_while_typing(page, published):
    warnings: list[str] = []
    page.on(
        "console",
        lambda message: warnings.append(message.text) if message.type in ("warning", "error") else None,
    )
    log_in(page, "staff")
    use_english(page)
    page.goto(f"/cases/new?process={published}&customer=C005")  # tier C: 5000 at most
    assert "ff-live-rules" not in page.title(), "rules/_live.html is included inside <title>"

    note = field_box(page, "Reason note")
    assert note.is_hidden()  # hidden by the server already: no answer yet
    page.get_by_label(REASON).select_option("other")
    assert note.is_visible()
    page.get_by_label("Reason note").fill("duplicate charge")
    page.get_by_label(REASON).select_option("overdue")
    assert note.is_hidden()
    page.get_by_label(REASON).select_option("other")
    assert note.is_visible()

    amount, fee = page.get_by_label("Amount"), page.get_by_label("Fee")
    amount.press_sequentially("12")
    assert fee.input_value() == "0.72"
    amount.press_sequentially("00.5")
    assert fee.input_value() == "72.03"  # 1200.5 × 0.06 = 72.03 (not 72.030000000000001)
    assert field_box(page, "Amount").locator(".ff-rule-error").count() == 0

    amount.fill("6000")
    message = field_box(page, "Amount").locator(".ff-rule-error")
    assert message.inner_text() == LIMIT_MESSAGE
    assert amount.get_attribute("aria-invalid") == "true"
    assert fee.input_value() == "360.00"
    page.screenshot(path=str(ARTIFACTS / "live-rules-limit-en.png"), full_page=True)
    amount.fill("4999.99")
    assert message.count() == 0
    assert amount.get_attribute("aria-invalid") is None

    account_box = field_box(page, "Bank account")
    assert account_box.locator(".ff-required").count() == 0
    page.get_by_label("Method").select_option("bank")
    assert account_box.locator(".ff-required").count() == 1
    assert page.get_by_label("Bank account").get_attribute("aria-required") == "true"
    page.get_by_label("Method").select_option("cash")
    assert account_box.locator(".ff-required").count() == 0

    # The server agrees: over the limit is refused with the same message …
    amount.fill("6000")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state()
    assert LIMIT_MESSAGE in field_box(page, "Amount").inner_text()
    assert page.get_by_label("Fee").input_value() == "360.00"
    assert field_box(page, "Reason note").is_visible()
    # … the message goes as soon as the amount is fixed, and the case is stored computed.
    page.get_by_label("Amount").fill("1200.50")
    assert not field_box(page, "Amount").get_by_text(LIMIT_MESSAGE).is_visible()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/cases/*")
    shown = page.locator("main").inner_text()
    assert "72.03" in shown and "duplicate charge" in shown
    assert [text for text in warnings if "Formflow" in text or "Content Security Policy" in text] == []


def test_admin_builds_rules_without_json_and_staff_see_them_live(page, live_app, live_server, tmp_path):
    """Issue 5's "done when": a show-this-field-when condition and a tier-threshold
    validation added in the builder, published, and live on the case form."""
    bare = {key: value for key, value in SPEC.items() if key != "rules"} | {"key": "built_deduction"}
    template = tmp_path / "built_deduction.json"
    template.write_text(json.dumps(bare, ensure_ascii=False), encoding="utf-8")
    runner = live_app.test_cli_runner()
    assert runner.invoke(args=["formflow", "import", str(template)]).exit_code == 0
    assert runner.invoke(args=["formflow", "publish", "built_deduction"]).exit_code == 0

    log_in(page, "admin")
    use_english(page)
    page.goto("/admin/processes/built_deduction/rules/")
    page.get_by_role("button", name="Add a show-this-field-when condition").click()
    page.get_by_label("Rule id").fill("show-reason-note")
    page.locator("#target").select_option(label="Reason note")
    assert page.get_by_label("Message (en)").is_hidden()  # only a validation has a message
    page.locator("#rows-0-field").select_option(label="Reason")
    page.locator("#rows-0-op").select_option(label="equals")
    assert page.locator("#rows-0-threshold").is_hidden()  # the table value is for "≤ table value"
    page.locator("#rows-0-value").fill("other")
    url = page.url
    page.get_by_role("button", name="Add condition").click()  # in place, no round trip
    assert page.url == url and page.locator("#rows-1-field").is_visible()
    assert page.locator("#rows-1-value").input_value() == ""
    page.get_by_role("button", name="Remove condition 2").click()
    assert page.locator("#rows-1-field").count() == 0
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url("**/rules/")
    assert "Reason equals Other" in page.locator("table").inner_text()  # the option, by its label

    page.get_by_role("button", name="Add a tier-threshold validation").click()
    page.wait_for_url("**/rules/new?preset=tier")  # the new page, not the list it leaves
    assert page.locator("#rows-0-value").is_hidden() and page.locator("#rows-0-threshold").is_visible()
    assert page.locator("#rows-0-threshold").input_value() == "deduction_limits:max_single"
    page.get_by_label("Message (zh-CN)").fill("超过该等级单笔扣款上限")
    page.get_by_label("Message (en)").fill(LIMIT_MESSAGE)
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url("**/rules/")
    page.screenshot(path=str(ARTIFACTS / "rule-builder-list-en.png"), full_page=True)

    page.goto("/admin/processes/built_deduction")
    page.get_by_role("button", name="Publish", exact=True).click()
    assert "Version 2 is published." in page.locator("main").inner_text()
    page.locator("form[action='/auth/logout'] button").click()

    log_in(page, "staff")
    page.goto("/cases/new?process=built_deduction&customer=C003")  # tier B: 20000 at most
    note = field_box(page, "Reason note")
    assert note.is_hidden()
    page.get_by_label(REASON).select_option("other")
    assert note.is_visible()
    page.get_by_label("Amount").fill("20000.01")
    assert field_box(page, "Amount").locator(".ff-rule-error").inner_text() == LIMIT_MESSAGE
    page.get_by_label("Amount").fill("20000")
    assert field_box(page, "Amount").locator(".ff-rule-error").count() == 0
