"""Issue 15's journey, in the browser: the admin makes the standard management-fee plan quarterly
(the amount stays the tier's row of the fee table), staff subscribes a customer with no prepaid
balance through the management-fee case and finance approves it; `tick --now` charges the
quarter, which goes to the receivable with an invoice; the reminders come before and after its
due date (finance is told in the app); a payment staff records and finance confirms settles the
invoice, late; after three quarters paid late the next tick opens an offboarding case for risk
with the facts that triggered it."""

from __future__ import annotations

import re

import pytest
from browser_support import ARTIFACTS, act, log_in, submit_new_case

pytestmark = [pytest.mark.browser, pytest.mark.live_db]

CUSTOMER = "C004"  # tier B: 800.00 a period in the demo fee table, no prepaid balance
QUARTERS = ("2027-01-01", "2027-04-01", "2027-07-01")


def tick(app, page, moment: str) -> str:
    """`formflow tick --now moment`, then finance logged in again (a tick in the future purges the
    sessions that have ended by then: all of today's)."""
    result = app.test_cli_runner().invoke(args=["formflow", "tick", "--now", moment])
    assert result.exit_code == 0, result.output
    log_in(page, "finance")
    return result.output


def record_payment(page, amount: str, paid_on: str) -> None:
    log_in(page, "staff")
    page.goto(f"/cases/new?process=payment_registration&customer={CUSTOMER}")
    page.get_by_label("Amount paid (CNY)").fill(amount)
    page.get_by_label("Payment date").fill(paid_on)
    page.get_by_label("Online payment").check()
    case = submit_new_case(page)
    log_in(page, "finance")
    act(page, case, "Confirm and post")
    assert "Posted" in page.locator("main").inner_text()


def invoice_status(page, number: str) -> str:
    page.goto(f"/billing/invoices/{number}")
    return page.locator('[data-testid="invoice-status"]').inner_text()


def test_a_quarterly_plan_charged_invoiced_reminded_paid_late_three_times_screens_the_customer(
    page, live_app
):
    log_in(page, "admin")
    page.goto("/billing/")
    page.get_by_role("link", name="Edit the fee plan Standard management fee").click()
    page.get_by_label("How often 1").select_option("quarterly")
    page.get_by_role("button", name="Save a new version").click()
    page.wait_for_url("**/billing/")
    plans = page.locator("main").inner_text()
    assert "saved as version 2" in plans and "quarterly" in plans

    log_in(page, "staff")
    page.goto(f"/cases/new?process=management_fee&customer={CUSTOMER}")
    page.get_by_label("Start date").fill(QUARTERS[0])
    subscription = submit_new_case(page)
    log_in(page, "finance")
    act(page, subscription, "Approve the subscription")
    assert "Subscribed" in page.locator("main").inner_text()

    numbers = []
    for quarter, start in enumerate(QUARTERS):
        output = tick(live_app, page, f"{start}T09:00")
        assert "failed" in output  # the summary line; no job may have failed:
        assert "0 failed" in output, output
        page.goto(f"/customers/{CUSTOMER}")
        invoices = page.locator('[data-testid="customer-invoices"]').inner_text()
        found = re.findall(r"INV-2027-\d{6}", invoices)
        assert len(found) == quarter + 1, invoices  # one invoice per quarter, none twice
        number = sorted(found)[-1]
        numbers.append(number)
        assert "800.00" in invoices and "Issued" in invoice_status(page, number)
        year, month = start[:4], int(start[5:7])
        due = f"{year}-{month:02d}-16"  # due the plan's 15 days after issue
        tick(live_app, page, f"{year}-{month:02d}-13T09:00")  # three days before: the first reminder
        tick(live_app, page, f"{year}-{month:02d}-17T09:00")  # a day after: overdue, the second
        # (the invoice page reads its status against the real today, before this due date)
        if quarter == 0:
            page.goto(f"/customers/{CUSTOMER}")
            reminders = page.locator('[data-testid="reminders"]').inner_text()
            assert reminders.count(number) == 2, reminders
            page.screenshot(path=str(ARTIFACTS / "fee-journey-customer.png"), full_page=True)
            page.goto("/notifications/")
            assert number in page.locator("main").inner_text()  # finance was told in the app
            page.goto(f"/billing/invoices/{number}")
            page.screenshot(path=str(ARTIFACTS / "fee-journey-invoice.png"), full_page=True)
        record_payment(page, "800.00", f"{year}-{month:02d}-20")
        assert "Paid" in invoice_status(page, number)
        assert due in page.locator('[data-testid="notice"]').inner_text()
        log_in(page, "risk")
        page.goto("/inbox")
        inbox = page.locator("main").inner_text()
        assert "Inbox" in inbox, inbox
        if quarter < 2:
            assert CUSTOMER not in inbox  # one or two late quarters: not yet a candidate

    log_in(page, "finance")
    page.goto(f"/customers/{CUSTOMER}")
    record = page.locator('[data-testid="late-record"]').inner_text()
    assert "Consecutive late periods\n3" in record and "Payments after their due date\n3" in record, record
    late = page.locator("main").inner_text()
    assert all(f"{number}: 800.00 paid on" in late for number in numbers), late

    tick(live_app, page, "2027-07-25T09:00")
    tick(live_app, page, "2027-07-26T09:00")  # a second tick opens no second case
    log_in(page, "risk")
    page.goto("/inbox")
    inbox = page.locator("main").inner_text()
    assert inbox.count(CUSTOMER) == 1, inbox
    page.locator("main tr", has_text=CUSTOMER).get_by_role("link").first.click()
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    case = page.locator("main").inner_text()
    assert CUSTOMER in case and "Customer offboarding" in case, case
    assert "Consecutive late periods\t3" in case and "800.00" in case, case  # the facts that triggered it
    page.screenshot(path=str(ARTIFACTS / "fee-journey-offboarding.png"), full_page=True)
