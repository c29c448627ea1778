"""Integrity and access, in the browser as the demo users meet them: a draft submitted from
its case page is checked like the form's Submit (and comes back as the form with its
messages); another staff member can neither open nor submit it; an admin who creates a
user's API token and then saves the page keeps the user's roles; an approver sees no way
to change the facts; a step reassigned to staff offers them only what staff may do."""

from __future__ import annotations

import re

import pytest
from browser_support import ARTIFACTS

from formflow.auth import services as auth
from formflow.extensions import db

pytestmark = [pytest.mark.browser, pytest.mark.live_db]

ROLES = {"admin", "staff", "finance", "manager", "risk", "auditor"}


def log_in(page, username: str, language: str = "en") -> None:
    page.context.clear_cookies()
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("demo" if username in ROLES else "correct-horse-9")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/")
    page.context.add_cookies([{"name": "lang", "value": language, "url": page.url}])


def draft_deduction(page, amount: str, *, evidence: bool) -> str:
    page.goto("/cases/new?process=deduction&customer=C005")  # tier C: at most 5,000.00 at once
    page.get_by_label("Other", exact=True).check()
    page.get_by_label("Other reason").fill("现场核实")
    page.get_by_label("Amount (CNY)").fill(amount)
    if evidence:
        page.get_by_label("Date of the incident").fill("2026-11-20")
        page.get_by_label("Evidence").set_input_files(
            files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 evidence"}]
        )
    page.locator(".form-actions button[value=draft]").click()
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    return page.url


def test_a_draft_submitted_from_its_case_page_is_checked_and_stays_its_authors(page, live_app):
    with live_app.app_context():
        auth.create_user("staff2", "correct-horse-9", ["staff"])
        db.session.commit()
    log_in(page, "staff")
    case_url = draft_deduction(page, "12000", evidence=False)
    page.locator("form.action-form").get_by_role("button", name="Submit for review", exact=True).click()
    # the form again, each problem at its field, and the case still a draft
    assert page.locator("form.case-form").count() == 1
    text = page.locator("main").inner_text()
    assert "Date of the incident" in text and "limit" in text
    assert page.locator("[aria-invalid=true]").count() >= 3
    page.screenshot(path=str(ARTIFACTS / "integrity-submit-refused.png"), full_page=True)
    # the form shown there saves the draft (it posts to the edit page, not to the action)
    page.get_by_label("Amount (CNY)").fill("120.00")
    page.locator(".form-actions button[value=draft]").click()
    page.wait_for_url(case_url)
    text = page.locator("main").inner_text()
    assert "Application" in text and "120.00" in text

    log_in(page, "staff2")
    response = page.goto(case_url)
    assert response.status == 403
    page.goto("/cases/")
    assert case_url.rsplit("/", 1)[1] not in [
        link.rsplit("/", 1)[-1] for link in page.locator("main a").evaluate_all("els => els.map(e => e.href)")
    ]


def test_creating_a_token_then_saving_keeps_the_users_roles(page, live_app):
    with live_app.app_context():
        user_id = auth.find_user("finance").id
    log_in(page, "admin")
    page.goto(f"/admin/users/{user_id}")
    page.get_by_role("button", name=re.compile("token", re.I)).first.click()
    page.wait_for_load_state()
    assert page.locator("input[type=checkbox][value=finance]").is_checked()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    with live_app.app_context():
        assert auth.find_user("finance").role_names == ["finance"]


def test_an_approver_cannot_edit_and_a_reassigned_staff_member_cannot_close(page, live_app):
    with live_app.app_context():
        auth.create_user("staff2", "correct-horse-9", ["staff"])
        db.session.commit()
    log_in(page, "staff")
    case_url = draft_deduction(page, "100", evidence=True)
    page.locator("form.action-form").get_by_role("button", name="Submit for review", exact=True).click()
    page.wait_for_url(re.compile(r".*/cases/\d+$"))

    log_in(page, "finance")
    page.goto(case_url)
    assert page.locator(f"a[href$='{case_url.rsplit('/', 1)[1]}/edit']").count() == 0
    assert page.goto(case_url + "/edit").status in (403, 409)
    page.goto(case_url)
    page.locator("form.action-form").get_by_role("button", name="Approve", exact=True).click()
    page.goto(case_url)
    assert "Executed, dispute window" in page.locator("main").inner_text()

    with live_app.app_context():
        staff2 = auth.find_user("staff2").id
    log_in(page, "manager")
    page.goto(case_url)
    page.locator("#reassign select[name=to]").select_option(str(staff2))
    page.locator("#reassign button[type=submit]").click()
    page.wait_for_load_state()

    log_in(page, "staff2")
    page.goto(case_url)
    buttons = page.locator("form.action-form button[type=submit]").all_inner_texts()
    assert any("dispute" in b for b in buttons) and not any("Close" in b for b in buttons)
    page.screenshot(path=str(ARTIFACTS / "integrity-reassigned-staff.png"), full_page=True)
