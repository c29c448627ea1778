"""Issue 13, in the browser: staff records a top-up that finance confirms (credited only then),
staff submits a deduction that posts when finance approves it, the customer's account page and
statement show both, and a refund above the balance is refused with its message."""

from __future__ import annotations

import re

import pytest
from browser_support import ARTIFACTS, act, log_in, submit_new_case

pytestmark = [pytest.mark.browser, pytest.mark.live_db]


def balances(page) -> str:
    page.goto("/customers/C003/account")
    return page.locator('[data-testid="balances"]').inner_text()


def test_a_top_up_and_a_deduction_move_the_balance_and_a_refund_above_it_is_refused(page, live_app):
    log_in(page, "staff")
    page.goto("/cases/new?process=prepaid_topup&customer=C003")
    page.get_by_label("Amount (CNY)").fill("500.00")
    page.get_by_label("Date received").fill("2026-11-28")
    page.get_by_label("Bank transfer").check()
    page.get_by_label("Bank reference").fill("ICBC-20261128-7")
    top_up = submit_new_case(page)
    assert "500.00" not in balances(page)  # nothing is credited before finance confirms

    log_in(page, "finance")
    act(page, top_up, "Confirm and credit")
    assert "500.00" in balances(page)

    log_in(page, "staff")
    page.goto("/cases/new?process=deduction&customer=C003")
    page.get_by_label("Quality problem").check()
    page.get_by_label("Amount (CNY)").fill("80.00")
    page.get_by_label("Date of the incident").fill("2026-11-20")
    page.get_by_label("Evidence").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 evidence"}]
    )
    deduction = submit_new_case(page)
    log_in(page, "finance")
    act(page, deduction, "Approve")
    assert "420.00" in balances(page)
    entries = page.locator('[data-testid="entries"]').inner_text()
    assert entries.index("-80.00") < entries.index("+500.00")  # newest first
    page.screenshot(path=str(ARTIFACTS / "customer-account.png"), full_page=True)

    page.get_by_role("link", name="Statement").click()
    statement = page.locator('[data-testid="statement"]').inner_text()
    assert "Opening balance" in statement and "500.00" in statement and "80.00" in statement
    assert page.locator('[data-testid="closing"]').inner_text().strip() == "420.00"
    page.screenshot(path=str(ARTIFACTS / "customer-statement.png"), full_page=True)

    log_in(page, "staff")
    page.goto("/cases/new?process=prepaid_refund&customer=C003")
    page.get_by_label("Amount to refund (CNY)").fill("1000.00")
    page.get_by_label("Contract ended").check()
    page.get_by_label("Account holder").fill("青松餐饮管理有限公司")
    page.get_by_label(re.compile(r"^Bank\W*$")).fill("中国工商银行")
    page.get_by_label("Account number").fill("6222020200112233")
    page.locator("button[value=submit]").click()
    assert "more than the customer's current prepaid balance" in page.locator("main").inner_text()
    assert "420.00" in balances(page)
