"""Issue 14, in the browser: the admin changes a process without JSON and publishes; new cases
get the change, cases already running keep their version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from browser_support import ARTIFACTS, act, log_in, submit_new_case

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases.models import Case
from formflow.extensions import db, utcnow
from formflow.workflows import engine

pytestmark = [pytest.mark.browser, pytest.mark.live_db]

#: offboarding from its start to the execution state (where the clearance checklist is)
TO_EXECUTION = [
    ("start_rectification", "risk"),
    ("evaluate", "risk"),
    ("proceed", "risk"),
    ("proceed", "risk2"),  # two distinct approvers
    ("execute", "risk"),
]


def _case_at_execution(app, customer: str) -> int:
    with app.app_context():
        staff = auth.find_user("staff")
        data = {"criteria": ["late_payments"], "late_payment_count": 3, "details": "连续三个月逾期"}
        case = cases.start("offboarding", customer, data, submit=True, actor=staff)
        db.session.commit()
        for action, user in TO_EXECUTION:
            engine.perform(case, action, auth.find_user(user))
            db.session.commit()
        assert case.state == "execution"
        return case.id


def test_a_clearance_item_added_without_json_reaches_new_cases_only(page, live_app):
    with live_app.app_context():
        auth.create_user("risk2", "correct-horse-9", ["risk"])
        db.session.commit()
    running = _case_at_execution(live_app, "C005")  # on version 1

    log_in(page, "admin")
    page.goto("/admin/processes/offboarding")
    page.locator("[data-testid=checklists] li", has_text="Execution").get_by_role("link").click()
    page.get_by_role("button", name="Add an item").click()
    page.get_by_label("Item id 6").fill("lock_portal")
    page.get_by_label("Label (zh-CN) 6").fill("关闭客户门户")
    page.get_by_label("Label (en) 6").fill("Lock the customer portal")
    page.get_by_label("Evidence required 6").check()
    page.get_by_role("button", name="Move item 6 up").click()  # reordered, by a button
    assert page.get_by_label("Item id 5").input_value() == "lock_portal"
    page.get_by_role("button", name="Save to the draft").click()
    text = page.locator("main").inner_text()
    assert "is saved in draft version 2" in text
    page.screenshot(path=str(ARTIFACTS / "checklist-editor-saved.png"), full_page=True)

    page.goto("/admin/processes/offboarding")
    page.locator("[data-testid=versions] tr", has_text="v2").get_by_role("button", name="Publish").click()
    assert "Version 2 is published." in page.locator("main").inner_text()

    fresh = _case_at_execution(live_app, "C006")  # on version 2
    log_in(page, "staff")
    page.goto(f"/cases/{fresh}")
    checklist = page.locator("main").inner_text()
    assert "Lock the customer portal" in checklist and "Settle the account" in checklist
    assert checklist.index("Lock the customer portal") < checklist.index("Handle the deposit")
    page.goto(f"/cases/{running}")
    kept = page.locator("main").inner_text()
    assert "Settle the account" in kept and "Lock the customer portal" not in kept


def test_a_template_from_the_gallery_under_a_new_key_then_a_case(page, live_app):
    log_in(page, "admin")
    page.goto("/admin/processes/")
    page.get_by_role("button", name="Template gallery").click()
    card = page.locator("article.gallery-card", has_text="Prepaid top-up")
    assert "fields" in card.inner_text()
    card.get_by_role("button", name="Preview and import").click()
    text = page.locator("main").inner_text()
    assert "Process prepaid_topup already is this template" in text  # the demo loaded it under its own key
    page.get_by_label("Key of the new process").fill("topup_east")
    page.get_by_role("button", name="Check this key").click()
    assert "No process has the key topup_east" in page.locator("main").inner_text()
    page.get_by_role("button", name="Import as topup_east").click()
    assert "Imported as the new process topup_east, draft version 1" in page.locator("main").inner_text()
    page.locator("[data-testid=versions] tr", has_text="v1").get_by_role("button", name="Publish").click()
    assert "Version 1 is published." in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / "gallery-imported.png"), full_page=True)

    log_in(page, "staff")
    page.goto("/cases/new?process=topup_east&customer=C003")
    page.get_by_label("Amount (CNY)").fill("800.00")
    page.get_by_label("Date received").fill("2026-11-28")
    page.get_by_label("Bank transfer").check()
    page.get_by_label("Bank reference").fill("ICBC-20261128-9")
    submit_new_case(page)
    with live_app.app_context():
        case = db.session.get(Case, int(page.url.rsplit("/", 1)[1]))
        assert case.process.key == "topup_east" and case.submitted_at is not None


def _deduction(page, customer: str, amount: str) -> str:
    """Staff submits a deduction in the browser; the case page's URL."""
    page.goto(f"/cases/new?process=deduction&customer={customer}")
    page.get_by_label("Quality problem").check()
    page.get_by_label("Amount (CNY)").fill(amount)
    page.get_by_label("Date of the incident").fill("2026-11-20")
    page.get_by_label("Evidence").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 evidence"}]
    )
    return submit_new_case(page)


def test_tier_b_threshold_lowered_with_the_what_if_then_two_distinct_approvers(page, live_app):
    log_in(page, "staff")
    past = _deduction(page, "C003", "7000.00")  # tier B: one approver under the threshold of 10000

    log_in(page, "admin")
    page.goto("/admin/processes/deduction")
    page.locator("[data-testid=process-tables] li", has_text="deduction_limits").get_by_role(
        "link", name="Edit the grid"
    ).click()
    page.get_by_label("Second approver above (CNY) · row 2").fill("5000")
    page.get_by_role("button", name="Save as draft and see the what-if").click()
    whatif = page.locator("main").inner_text()
    assert "Version 2 against the published version 1" in whatif
    assert f"#{past.rsplit('/', 1)[1]}" in whatif and "1 past case would now need 2 approvals" in whatif
    assert "Approvals at Review: 1 → 2" in whatif  # the past case that would now need two approvers
    page.screenshot(path=str(ARTIFACTS / "threshold-whatif.png"), full_page=True)
    page.get_by_role("button", name="Publish version 2").click()
    assert "Version 2 is published." in page.locator("main").inner_text()

    log_in(page, "staff")
    case_url = _deduction(page, "C004", "6000.00")  # tier B, above the new threshold
    log_in(page, "finance")
    act(page, case_url, "Approve")
    page.goto(case_url)
    assert "Review" in page.locator("main").inner_text()  # one more approval needed
    assert page.locator("form.action-form").get_by_role("button", name="Approve", exact=True).is_disabled()
    log_in(page, "manager")
    act(page, case_url, "Approve")
    page.goto(case_url)
    assert "Executed, dispute window" in page.locator("main").inner_text()


def test_a_step_with_an_sla_inserted_between_two_shows_in_the_diagram_and_a_case_walks_it(page, live_app):
    log_in(page, "admin")
    page.goto("/admin/processes/offboarding")
    page.get_by_role("button", name="Add a step").click()
    page.get_by_label("Between").select_option("preliminary_notice:start_rectification")
    page.get_by_label("Step id").fill("cooling_off")
    page.get_by_label("Title (zh-CN)").fill("冷静期")
    page.get_by_label("Title (en)").fill("Cooling-off period")
    page.get_by_label("Who acts on it").select_option("risk")
    page.get_by_label("Its action (zh-CN)").fill("结束冷静期")
    page.get_by_label("Its action (en)").fill("End the cooling-off")
    page.get_by_label("Time limit").fill("P2D")
    page.get_by_role("button", name="Save to the draft").click()
    assert "The step is added in draft version 2" in page.locator("main").inner_text()
    drawn = page.locator("[data-testid=workflow-diagram] [data-state=cooling_off]")
    assert "Cooling-off period" in drawn.inner_html() and "SLA P2D" in drawn.inner_html()
    page.screenshot(path=str(ARTIFACTS / "step-added.png"), full_page=True)
    # then its time limit changed in the step editor: the diagram follows before saving
    page.locator("main p", has_text="Change a step:").get_by_role("link", name="Cooling-off period").click()
    page.get_by_label("Time allowed (e.g. P3D, PT48H; empty: none)").fill("P3D")
    page.get_by_role("button", name="Update the diagram").click()
    assert "SLA P3D" in page.locator("[data-testid=step-diagram] [data-state=cooling_off]").inner_html()
    page.screenshot(path=str(ARTIFACTS / "step-edit.png"), full_page=True)
    page.get_by_role("button", name="Save to the draft").click()
    assert "The step is saved in draft version 2" in page.locator("main").inner_text()
    page.locator("[data-testid=versions] tr", has_text="v2").get_by_role("button", name="Publish").click()
    assert "Version 2 is published." in page.locator("main").inner_text()

    with live_app.app_context():
        data = {"criteria": ["late_payments"], "late_payment_count": 3, "details": "连续三个月逾期"}
        case = cases.start("offboarding", "C006", data, submit=True, actor=auth.find_user("staff"))
        db.session.commit()
        case_url = f"/cases/{case.id}"
    log_in(page, "risk")
    act(page, case_url, "Start the rectification period")
    assert "Cooling-off period" in page.locator("main").inner_text()

    later = (utcnow() + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    result = live_app.test_cli_runner().invoke(args=["formflow", "tick", "--now", later])
    assert result.exit_code == 0, result.output
    log_in(page, "risk")
    page.goto(case_url)
    assert "Rectification period" in page.locator("main").inner_text()
    assert "End the cooling-off" in page.locator("main").inner_text()  # the timeline says what moved it


def test_a_money_field_with_a_maximum_and_a_condition_added_without_json(page, live_app):
    log_in(page, "admin")
    page.goto("/admin/processes/deduction")
    page.get_by_role("button", name="Form designer").click()
    page.get_by_role("navigation", name="Add a field").get_by_role("button", name="Amount of money").click()
    assert page.get_by_label("Kind").input_value() == "money"  # the palette's kind, chosen
    page.get_by_label("Field key").fill("penalty")
    page.get_by_label("After").select_option("amount")
    page.get_by_label("Label (zh-CN)").fill("违约金（元）")
    page.get_by_label("Label (en)").fill("Penalty (CNY)")
    page.get_by_label("Maximum (numbers, money; rows of a repeating group)").fill("5000")
    page.get_by_label("this field").select_option("reason")
    page.get_by_label("has this value").fill("late_delivery")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("[data-testid=form-preview]")
    assert "Penalty (CNY)" not in preview.inner_text()  # rendered by the form engine, as staff see it:
    preview.get_by_label("Late delivery").check()  # its condition runs live in the preview
    preview.get_by_label("Penalty (CNY)").wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / "field-preview.png"), full_page=True)
    page.get_by_role("button", name="Save to the draft").click()
    assert "The field is saved in draft version 2" in page.locator("main").inner_text()
    rows = page.locator("ol.field-outline > li")
    assert rows.nth(3).get_attribute("data-name") == "penalty"  # after the amount
    # dragged by its handle above the reason: SortableJS posts the order, the page comes back with it
    with page.expect_navigation():
        rows.nth(3).locator(".drag-handle").drag_to(rows.nth(0).locator(".drag-handle"))
    assert "The fields are reordered in draft version 2" in page.locator("main").inner_text()
    assert page.locator("ol.field-outline > li").nth(0).get_attribute("data-name") == "penalty"
    page.screenshot(path=str(ARTIFACTS / "form-designer.png"), full_page=True)
    page.goto("/admin/processes/deduction")
    page.locator("[data-testid=versions] tr", has_text="v2").get_by_role("button", name="Publish").click()
    assert "Version 2 is published." in page.locator("main").inner_text()

    log_in(page, "staff")
    page.goto("/cases/new?process=deduction&customer=C003")
    penalty = page.get_by_label("Penalty (CNY)")
    assert not penalty.is_visible()  # only for a late delivery
    page.get_by_label("Late delivery").check()
    penalty.wait_for(state="visible")  # shown live, by the rule
    page.get_by_label("Amount (CNY)").fill("3000.00")
    penalty.fill("9000")
    page.get_by_label("Date of the incident").fill("2026-11-20")
    page.get_by_label("Evidence").set_input_files(
        files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 evidence"}]
    )
    page.locator("button[value=submit]").click()
    error = page.locator("#" + penalty.get_attribute("aria-describedby").split()[0])
    assert "5000" in error.inner_text()  # refused inline, at the field
    assert "/cases/new" in page.url or "cases" in page.url
