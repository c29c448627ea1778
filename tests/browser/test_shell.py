"""The UI shell as a user meets it, in a real browser."""

from __future__ import annotations

import pytest
from browser_support import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.live_db]


def test_admin_logs_in_creates_a_user_and_switches_language(page):
    page.goto("/")
    assert "/auth/login" in page.url
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.get_by_label("用户名").fill("admin")
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().strip() == "用户名或密码错误。"

    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    assert "您好" in page.locator("h1").inner_text()
    page.screenshot(path=str(ARTIFACTS / "home-admin-zh.png"), full_page=True)

    page.get_by_role("link", name="用户", exact=True).click()
    page.get_by_role("button", name="新建用户").click()
    page.get_by_label("用户名").fill("zhangsan")
    page.get_by_label("显示名称").fill("张三")
    page.get_by_label("初始密码").fill("short")
    page.get_by_label("财务").check()
    page.get_by_label("经理").check()
    page.get_by_role("button", name="创建用户").click()
    assert "至少需要 8 个字符" in page.locator(".field-error").inner_text()
    assert page.get_by_label("用户名").input_value() == "zhangsan"  # input kept

    page.get_by_label("初始密码").fill("zhangsan-2026")
    page.get_by_role("button", name="创建用户").click()
    assert "已创建用户 zhangsan" in page.get_by_role("status").first.inner_text()
    assert page.get_by_label("财务").is_checked() and page.get_by_label("经理").is_checked()
    assert not page.get_by_label("风控").is_checked()
    page.screenshot(path=str(ARTIFACTS / "user-edit-zh.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Log out").is_visible()
    page.get_by_role("link", name="Users", exact=True).click()
    assert "zhangsan" in page.locator("table").inner_text()
    page.screenshot(path=str(ARTIFACTS / "users-en.png"), full_page=True)


def test_auditor_sees_the_log_but_not_user_admin(page):
    page.goto("/auth/login")
    page.get_by_label("用户名").fill("auditor")
    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    nav = page.locator("header nav").inner_text()
    assert "审计日志" in nav and "用户" not in nav.replace("用户名", "")
    page.get_by_role("link", name="审计日志").first.click()
    assert "user.create" in page.locator("table").inner_text()
    page.get_by_role("button", name="校验哈希链").click()
    assert "完整" in page.get_by_role("status").inner_text()
    page.goto("/admin/users")
    assert "您没有执行此操作的权限" in page.content()
    page.screenshot(path=str(ARTIFACTS / "audit-verify-zh.png"), full_page=True)
