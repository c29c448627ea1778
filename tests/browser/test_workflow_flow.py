"""Issue 6, in the browser: a deduction above tier C's dual-approval threshold, submitted by
staff, needs finance plus a second, different approver before it is executed; an offboarding
case walks through its rectification timer (`tick --now`) and cannot be executed until its
clearance checklist is complete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from browser_support import ARTIFACTS, submit_new_case

from formflow.auth import services as auth
from formflow.extensions import db, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.live_db]


def log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("demo" if username in ROLES else "correct-horse-9")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/")
    page.context.add_cookies([{"name": "lang", "value": "en", "url": page.url}])


ROLES = {"admin", "staff", "finance", "manager", "risk", "auditor"}


def act(page, case_url: str, action: str, comment: str = "") -> None:
    page.goto(case_url)
    if comment:
        page.locator("form.action-form textarea[name=comment]").fill(comment)
    page.locator("form.action-form").get_by_role("button", name=action, exact=True).click()


def test_a_deduction_above_tier_c_threshold_needs_two_different_approvers(page, live_app):
    log_in(page, "staff")
    page.goto("/cases/new?process=deduction&customer=C005")  # C005 is tier C: dual approval above 2000
    page.get_by_label("Quality problem").check()
    page.get_by_label("Amount (CNY)").fill("3000.00")
    page.get_by_label("Date of the incident").fill("2026-11-20")
    page.get_by_label("Evidence").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 evidence"}]
    )
    case_url = submit_new_case(page)
    assert "Review" in page.locator("main").inner_text()

    log_in(page, "finance")
    act(page, case_url, "Approve")
    text = page.locator("main").inner_text()
    assert "Review" in text and "1" in text  # still waiting: one more approval needed
    page.goto(case_url)
    approve = page.locator("form.action-form").get_by_role("button", name="Approve", exact=True)
    assert approve.is_disabled()  # the same person cannot approve twice
    page.screenshot(path=str(ARTIFACTS / "deduction-one-approval.png"), full_page=True)

    log_in(page, "manager")
    act(page, case_url, "Approve")
    page.goto(case_url)
    assert "Executed, dispute window" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "deduction-executed.png"), full_page=True)


def test_offboarding_walks_through_its_timer_and_needs_the_checklist(page, live_app):
    with live_app.app_context():
        auth.create_user("risk2", "correct-horse-9", ["risk"])
        db.session.commit()
    log_in(page, "staff")
    page.goto("/cases/new?process=offboarding&customer=C006")
    page.get_by_label("Repeated late payments").check()
    page.get_by_label("Consecutive late payments").fill("3")
    page.get_by_label("Facts and reasons").fill("连续三个月逾期缴费")
    case_url = submit_new_case(page)

    log_in(page, "risk")
    act(page, case_url, "Start the rectification period")
    assert "Rectification period" in page.locator("main").inner_text()

    later = (utcnow() + timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    result = live_app.test_cli_runner().invoke(args=["formflow", "tick", "--now", later])
    assert result.exit_code == 0, result.output
    log_in(page, "risk")  # 31 days on, the tick has also ended every browser session (12 h at most)
    page.goto(case_url)
    assert "Evaluation" in page.locator("main").inner_text()

    act(page, case_url, "Proceed with offboarding")
    log_in(page, "risk2")
    act(page, case_url, "Proceed with offboarding")
    act(page, case_url, "Start the execution")
    log_in(page, "staff")
    act(page, case_url, "Checklist done: settle")
    assert "Settle the account" in page.locator("main").inner_text()
    assert page.locator("main").inner_text().count("Execution") >= 1  # refused: still at execution
    page.screenshot(path=str(ARTIFACTS / "offboarding-checklist-open.png"), full_page=True)

    for item in ("settle_account", "end_services", "archive_data", "revoke_access"):
        row = page.locator(f"#checklist-{item}")
        row.locator("summary").click()  # "Tick…" opens the item's form
        if row.locator("textarea[name=note]").count():
            row.locator("textarea[name=note]").fill("已完成，见附件说明")
        row.get_by_role("button", name="Tick", exact=True).click()
        page.wait_for_load_state()
    act(page, case_url, "Checklist done: settle")
    page.goto(case_url)
    assert "Settlement" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "offboarding-settlement.png"), full_page=True)
