"""Issue 16's reconciliation, in the browser: finance imports a bank CSV (GBK, as the bank exports
it), sees the preview, matches automatically with each reason shown, matches one line by hand,
splits one over two invoices, explains the bank charge and closes the month. The bank account is
the demo's (`formflow demo`: 工商银行 基本户, its mapping as mainland banks export)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from browser_support import ARTIFACTS, log_in

from formflow.billing import invoices
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger

pytestmark = [pytest.mark.browser, pytest.mark.live_db]


def _owing(code: str, name: str, *amounts: str) -> list[str]:
    customer = customers.create(code, name, "B")
    total = sum((Decimal(amount) for amount in amounts), Decimal("0"))
    ledger.post(
        "management_fee",
        [
            ledger.Line(ledger.customer_account(customer, "receivable"), total),
            ledger.Line(ledger.system_account("revenue_management_fee"), -total),
        ],
        key=f"browser-owed:{code}",
    )
    issued = date(2026, 11, 1)
    return [
        invoices.issue(customer, [invoices.Item("管理费", Decimal(a))], issue_date=issued).number
        for a in amounts
    ]


def _set_up(app) -> tuple[list[str], bytes]:
    with app.app_context():
        (auto,) = _owing("RB01", "自动匹配公司", "1200.00")
        two, three = _owing("RB02", "拆分公司", "300.00", "200.00")
        (four,) = _owing("RB03", "手工公司", "450.00")
        _owing("RB04", "同额公司", "450.00")
        db.session.commit()
    rows = [
        "账号:6222 0210 0012 3456,,,,,,,",
        "交易日期,流水号,借方发生额,贷方发生额,余额,对方户名,对方账号,摘要",
        f'2026-11-03,S1,,"1,200.00","1,200.00",自动匹配公司,6217 0001,管理费 {auto}',
        '2026-11-04,S2,,500.00,"1,700.00",拆分公司,6217 0002,两张发票',
        '2026-11-05,S3,,450.00,"2,150.00",某公司,6217 0003,汇款',
        '2026-11-06,S4,12.00,,"2,138.00",,,手续费',
    ]
    return [auto, two, three, four], ("\r\n".join(rows) + "\r\n").encode("gbk")


def test_finance_imports_matches_by_hand_splits_and_closes_the_month(page, live_app, tmp_path):
    numbers, content = _set_up(live_app)
    statement = tmp_path / "工行十一月.csv"
    statement.write_bytes(content)
    log_in(page, "finance")
    page.goto("/reconcile/import")
    page.locator("select[name=account]").select_option(label="工商银行 基本户")
    page.locator("input[name=file]").set_input_files(str(statement))
    page.get_by_role("button", name="Preview").click()
    assert (
        "4 lines read: 4 new, 0 imported before."
        in page.locator('[data-testid="preview-counts"]').inner_text()
    )
    page.locator('[data-testid="confirm-import"]').click()
    assert "4 new bank lines imported" in page.locator("main").inner_text()

    page.goto("/reconcile/")
    page.locator('[data-testid="auto-match"]').click()
    matched = page.locator('[data-testid="bank-lines"]').inner_text()
    assert f"reference {numbers[0]} in memo" in matched
    page.screenshot(path=str(ARTIFACTS / "reconcile-matched.png"), full_page=True)

    page.goto("/reconcile/lines?status=unmatched")
    page.locator('[data-testid="bank-lines"] tr', has_text="汇款").locator("a").click()
    assert (
        page.locator('[data-testid="suggestions"]').inner_text().count("450.00") == 2
    )  # two fit: a person picks
    form = page.locator('[data-testid="split-form"]')
    form.locator("input[name=parts-0-invoice]").fill(numbers[3])
    form.locator("input[name=parts-0-amount]").fill("450")
    form.get_by_role("button", name="Match").click()
    assert page.locator('[data-testid="match-reason"]').inner_text() == "matched by hand"

    page.goto("/reconcile/lines?status=unmatched")
    page.locator('[data-testid="bank-lines"] tr', has_text="两张发票").locator("a").click()
    form = page.locator('[data-testid="split-form"]')
    form.locator("input[name=parts-0-invoice]").fill(numbers[1])
    form.locator("input[name=parts-0-amount]").fill("300")
    form.locator("input[name=parts-1-invoice]").fill(numbers[2])
    form.locator("input[name=parts-1-amount]").fill("100")
    form.get_by_role("button", name="Match").click()
    assert "The parts add up to 400.00; the bank line is 500.00." in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "reconcile-split-refused.png"), full_page=True)
    form = page.locator('[data-testid="split-form"]')
    form.locator("input[name=parts-1-amount]").fill("200")
    form.get_by_role("button", name="Match").click()
    split = page.locator('[data-testid="match-invoices"]').inner_text()
    assert numbers[1] in split and numbers[2] in split

    page.goto("/reconcile/lines?status=unmatched")
    page.locator('[data-testid="bank-lines"] tr', has_text="手续费").locator("a").click()
    page.locator("input[name=note]").fill("账户管理费")
    page.locator("select[name=post_as]").select_option("bank_charges")
    page.get_by_role("button", name="Explain").click()
    assert page.locator('[data-testid="explanation"]').inner_text() == "账户管理费"

    page.goto("/reconcile/periods/2026-11")
    assert page.locator('[data-testid="close-ready"]').is_visible()
    page.screenshot(path=str(ARTIFACTS / "reconcile-close.png"), full_page=True)
    page.locator('[data-testid="close-month"]').click()
    page.wait_for_url(re.compile(r".*/reconcile/periods/2026-11$"))
    status = page.locator('[data-testid="period-status"]').inner_text()
    assert "Postings dated in 2026-11 are refused" in status
    assert "2,138.00" in page.locator("main").inner_text()

    page.goto("/lang/zh_CN?next=/reconcile/lines")
    assert "备注中有编号" in page.locator('[data-testid="bank-lines"]').inner_text()
    page.screenshot(path=str(ARTIFACTS / "reconcile-lines-zh.png"), full_page=True)
