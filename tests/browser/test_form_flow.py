"""Issue 4, as its users meet it: an admin imports a form-only template through the UI and
publishes it; staff fill the generated form, get inline errors for bad input, fix them and
submit — in zh-CN and in en."""

from __future__ import annotations

import json

import pytest
from browser_support import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.live_db]

TOP_UP = {
    "formflow": 1,
    "key": "prepaid_deposit_slip",
    "category": "prepaid",
    "name": {"zh-CN": "预存充值", "en": "Prepaid top-up"},
    "form": {
        "schema": {
            "type": "object",
            "required": ["amount", "paid_on", "channel"],
            "properties": {
                "amount": {"type": "number", "title": "充值金额", "multipleOf": 0.01, "exclusiveMinimum": 0},
                "paid_on": {"type": "string", "format": "date", "title": "到账日期"},
                "channel": {
                    "title": "渠道",
                    "oneOf": [{"const": "bank", "title": "银行转账"}, {"const": "cash", "title": "现金"}],
                },
                "splits": {
                    "type": "array",
                    "title": "分摊",
                    "items": {
                        "type": "object",
                        "required": ["purpose", "share"],
                        "properties": {
                            "purpose": {"type": "string", "title": "用途"},
                            "share": {"type": "number", "title": "金额", "multipleOf": 0.01},
                        },
                    },
                },
            },
        },
        "uiSchema": {
            "amount": {"ui:title": {"zh-CN": "充值金额", "en": "Amount"}},
            "paid_on": {"ui:title": {"zh-CN": "到账日期", "en": "Received on"}},
            "channel": {
                "ui:title": {"zh-CN": "渠道", "en": "Channel"},
                "ui:widget": "radio",
                "ui:enumNames": [
                    {"zh-CN": "银行转账", "en": "Bank transfer"},
                    {"zh-CN": "现金", "en": "Cash"},
                ],
            },
            "splits": {
                "ui:title": {"zh-CN": "分摊", "en": "Splits"},
                "items": {
                    "purpose": {"ui:title": {"zh-CN": "用途", "en": "Purpose"}},
                    "share": {"ui:title": {"zh-CN": "金额", "en": "Share"}},
                },
            },
        },
    },
    "tests": [],
}


def log_in(page, username: str) -> None:
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("demo")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/")


def log_out(page) -> None:
    page.locator("form[action='/auth/logout'] button").click()
    page.wait_for_url("**/auth/login**")


def error_next_to(page, label: str):
    """The error messages shown in the same field box as the input labelled `label`."""
    return page.locator(".ff-field", has=page.get_by_label(label)).locator(".ff-error")


def use_english(page) -> None:
    page.context.add_cookies([{"name": "lang", "value": "en", "url": page.url}])


def test_admin_imports_and_publishes_staff_fill_in_english(page, tmp_path):
    template = tmp_path / "prepaid_deposit_slip.json"
    template.write_text(json.dumps(TOP_UP, ensure_ascii=False), encoding="utf-8")

    log_in(page, "admin")
    use_english(page)
    page.goto("/admin/processes/import")
    page.get_by_label("Template file (.json)").set_input_files(str(template))
    page.get_by_role("button", name="Check").click()
    assert "A new process; this becomes its draft version 1." in page.content()
    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url("**/admin/processes/prepaid_deposit_slip")
    page.get_by_role("button", name="Publish").click()
    assert "published" in page.locator("table").inner_text()
    page.screenshot(path=str(ARTIFACTS / "process-published-en.png"), full_page=True)
    log_out(page)

    log_in(page, "staff")
    page.goto("/cases/new")
    page.get_by_label("Process").select_option("prepaid_deposit_slip")
    page.get_by_label("Customer", exact=True).fill("C003")
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Amount").fill("12.345")
    page.get_by_label("Received on").fill("2026-11-20")
    page.get_by_role("button", name="Add row").click()  # works as a plain submit, no data lost
    assert page.get_by_label("Amount").input_value() == "12.345"
    page.get_by_label("Purpose").fill("押金")
    page.get_by_label("Share").fill("abc")
    page.get_by_role("button", name="Submit").click()

    assert error_next_to(page, "Amount").inner_text() == "Use at most two decimal places."
    assert error_next_to(page, "Share").inner_text() == "Enter a number."
    assert page.get_by_label("Share").input_value() == "abc"  # what was typed stays
    assert "Channel" in page.locator(".ff-summary").inner_text()
    assert page.get_by_label("Amount").get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(ARTIFACTS / "case-form-errors-en.png"), full_page=True)

    page.get_by_label("Amount").fill("1200.50")
    page.get_by_label("Share").fill("1200.50")
    page.get_by_label("Bank transfer").check()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/cases/*")
    shown = page.locator("main").inner_text()
    assert "1,200.50" in shown and "Bank transfer" in shown and "押金" in shown
    page.screenshot(path=str(ARTIFACTS / "case-submitted-en.png"), full_page=True)


def test_staff_fill_the_published_template_in_chinese(page):
    log_in(page, "staff")
    page.goto("/cases/new?process=payment_registration&customer=C001")
    page.get_by_label("缴费金额（元）").fill("-5")
    page.get_by_role("button", name="提交").click()
    error_text = error_next_to(page, "缴费金额（元）").inner_text()
    assert any("\u4e00" <= char <= "\u9fff" for char in error_text), error_text
    assert error_next_to(page, "缴费日期").count() == 1  # required, shown next to its field
    page.screenshot(path=str(ARTIFACTS / "case-form-errors-zh.png"), full_page=True)

    page.get_by_label("缴费金额（元）").fill("880.00")
    page.get_by_label("缴费日期").fill("2026-11-25")
    page.get_by_label("在线支付").check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/cases/*")
    assert "880.00" in page.locator("main").inner_text()
