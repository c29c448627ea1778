"""Issue 13 point 1, in the browser: staff imports a GBK CSV whose preview names the bad row,
imports only the valid rows, adds a contact on the new customer's page; risk blacklists the
customer, and a deduction for them is then refused where staff starts it — in zh-CN."""

from __future__ import annotations

import re

import pytest
from browser_support import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.live_db]

CSV = (
    "客户编码,客户名称,等级,联系人,电话\r\n"
    "BR01,浏览器导入有限公司,B,钱七,021-66668888\r\n"
    "BR02,等级不对,Z,,\r\n"
)


def test_import_edit_blacklist_and_a_refused_deduction(page, live_app):
    log_in(page, "staff", language="zh_CN")
    page.goto("/customers/")
    page.get_by_role("button", name="导入").click()
    page.locator("input[name=file]").set_input_files(
        files=[{"name": "银行导出.csv", "mimeType": "text/csv", "buffer": CSV.encode("gbk")}]
    )
    page.get_by_role("button", name="预览").click()
    problems = page.locator('[data-testid="problems"]').inner_text()
    assert "第 3 行" in problems and "未知等级 Z" in problems
    assert "按 GBK 读取" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "customer-import-preview.png"), full_page=True)
    page.get_by_role("button", name="只导入 1 个有效行").click()
    assert "已导入 1 个客户" in page.locator("main").inner_text()

    page.goto("/customers/BR01")
    assert "钱七" in page.locator('[data-testid="contacts"]').inner_text()
    page.get_by_role("button", name="编辑").click()
    page.locator("input[name=contacts-1-person]").fill("孙八")
    page.locator("input[name=contacts-1-email]").fill("sunba@")
    page.get_by_role("button", name="保存").click()
    assert "不是有效的电子邮箱地址" in page.locator("#error-contacts-1-email").inner_text()
    page.locator("input[name=contacts-1-email]").fill("sunba@example.cn")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/customers/BR01$"))
    assert "sunba@example.cn" in page.locator('[data-testid="contacts"]').inner_text()

    log_in(page, "risk", language="zh_CN")
    page.goto("/customers/BR01")
    page.get_by_text("列入黑名单", exact=True).first.click()  # the disclosure
    page.locator("form input[name=reason]").last.fill("恶意拖欠")
    page.get_by_role("button", name="列入黑名单").click()
    assert "恶意拖欠" in page.locator('[data-testid="blacklisted"]').inner_text()
    assert "已列入黑名单" in page.locator('[data-testid="status"]').inner_text()
    page.screenshot(path=str(ARTIFACTS / "customer-page.png"), full_page=True)

    log_in(page, "staff", language="zh_CN")
    page.goto("/cases/new?process=deduction&customer=BR01")
    text = page.locator("main").inner_text()
    assert "无法为 浏览器导入有限公司（BR01）发起" in text and "恶意拖欠" in text
