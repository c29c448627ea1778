"""The invoice pages as finance, a manager and an auditor use them: the list by status (overdue
read from the due date), an invoice's notice with its balances and the PDF of it, an instalment
plan proposed with bad parts (the page back with each message at its input), proposed right and
approved by a second person, voiding; the payments list and the payment-event log; both
languages."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pypdfium2 as pdfium
import pytest

from formflow.billing import invoices, payments
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger


@pytest.fixture
def owed(app):
    """Two invoices of customer IP01: 900.00 (issued 2026-01-01, overdue) and 100.00."""
    with app.app_context():
        customer = customers.create("IP01", "通知单客户", "B")
        ledger.post(
            "management_fee",
            [
                ledger.Line(ledger.customer_account(customer, "receivable"), Decimal("1000.00")),
                ledger.Line(ledger.system_account("revenue_management_fee"), Decimal("-1000.00")),
            ],
            key="ip-owed",
        )
        item = invoices.Item("季度管理费", Decimal("900.00"), period="2026-01-01")
        first = invoices.issue(customer, [item], issue_date=date(2026, 1, 1))
        second = invoices.issue(
            customer, [invoices.Item("开户费", Decimal("100.00"))], issue_date=date(2026, 1, 2)
        )
        payments.register(customer, "150", method="bank_transfer", paid_on="2026-01-05", key="ip-pay",
                          reference="BOC-778899", chosen=[payments.Chosen(first.number, "150")])  # fmt: skip
        db.session.commit()
        return first.number, second.number


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_list_shows_each_invoice_with_its_status_and_filters_overdue(app, login_as, owed):
    first, second = owed
    finance = login_as("finance")
    finance.get("/lang/en")
    page = _text(finance.get("/billing/invoices"))
    assert first in page and second in page and "Overdue" in page and "750.00" in page
    overdue = _text(finance.get("/billing/invoices?status=overdue"))
    assert first in overdue
    paid = _text(finance.get("/billing/invoices?status=paid"))
    assert first not in paid and "No invoice matches." in paid
    chinese = _text(login_as("finance").get("/billing/invoices"))
    assert "已逾期" in chinese and "缴费通知单" in chinese


def test_the_invoice_page_shows_the_notice_and_the_pdf_carries_it(app, login_as, owed):
    first, _second = owed
    finance = login_as("finance")
    finance.get("/lang/en")
    page = _text(finance.get(f"/billing/invoices/{first}"))
    assert "Payment notice" in page and "季度管理费" in page and "2026-01-01" in page
    assert "Left to pay" in page and "750.00" in page and "BOC-778899" in page
    assert "receivable 850.00" in page  # the customer's balances today
    response = finance.get(f"/billing/invoices/{first}/notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdfium.PdfDocument(response.data)[0].get_textpage().get_text_range()
    assert first in text and "750.00" in text and "通知单客户" in text
    assert "Left to pay" in text and "Overdue" in text, text
    chinese = pdfium.PdfDocument(login_as("finance").get(f"/billing/invoices/{first}/notice.pdf").data)
    assert "缴费通知单" in chinese[0].get_textpage().get_text_range()


def test_a_plan_that_does_not_add_up_comes_back_with_its_messages(app, login_as, owed):
    first, _second = owed
    finance = login_as("finance")
    finance.get("/lang/en")
    bad = finance.post_form(f"/billing/invoices/{first}/instalments", {
        "instalments-0-due_date": "2026-02-01", "instalments-0-amount": "300",
        "instalments-1-due_date": "2026-01-15", "instalments-1-amount": "abc",
    }, token_page=f"/billing/invoices/{first}")  # fmt: skip
    assert bad.status_code == 422
    page = _text(bad)
    assert 'id="error-instalments-1-due_date"' in page and 'id="error-instalments-1-amount"' in page
    assert 'value="abc"' in page  # what was typed stays
    short = finance.post_form(f"/billing/invoices/{first}/instalments", {
        "instalments-0-due_date": "2026-02-01", "instalments-0-amount": "300",
        "instalments-1-due_date": "2026-03-01", "instalments-1-amount": "300",
    }, token_page=f"/billing/invoices/{first}")  # fmt: skip
    assert short.status_code == 422 and "750.00 is left to pay" in _text(short)
    with app.app_context():
        assert invoices.by_number(first).instalments == []


def test_a_plan_is_proposed_by_one_and_approved_by_another(app, login_as, owed):
    first, _second = owed
    finance = login_as("finance")
    finance.get("/lang/en")
    proposed = finance.post_form(f"/billing/invoices/{first}/instalments", {
        "instalments-0-due_date": "2026-02-01", "instalments-0-amount": "350",
        "instalments-1-due_date": "2026-03-01", "instalments-1-amount": "400.00",
    }, token_page=f"/billing/invoices/{first}", follow_redirects=True)  # fmt: skip
    page = _text(proposed)
    assert "waits for a second person" in page and "Awaiting approval" in page
    refused = finance.post_form(
        f"/billing/invoices/{first}/instalments/approve", token_page=f"/billing/invoices/{first}"
    )
    assert refused.status_code == 403
    manager = login_as("manager")
    approved = manager.post_form(f"/billing/invoices/{first}/instalments/approve",
                                 token_page=f"/billing/invoices/{first}", follow_redirects=True)  # fmt: skip
    assert "审批" in _text(approved) or "approved" in _text(approved)
    with app.app_context():
        assert [part.status for part in invoices.by_number(first).instalments] == ["open", "open"]


def test_voiding_needs_a_reason_and_then_reverses_the_receivable(app, login_as, owed):
    _first, second = owed
    finance = login_as("finance")
    finance.get("/lang/en")
    missing = finance.post_form(
        f"/billing/invoices/{second}/void", {"reason": " "}, token_page="/billing/invoices"
    )
    assert missing.status_code == 422 and 'id="error-reason"' in _text(missing)
    done = finance.post_form(f"/billing/invoices/{second}/void", {"reason": "重复开具"},
                             token_page="/billing/invoices", follow_redirects=True)  # fmt: skip
    assert "Void: 重复开具" in _text(done)
    with app.app_context():
        assert invoices.by_number(second).status == "void"


def test_the_auditor_reads_but_finds_no_forms_and_staff_is_refused(app, login_as, owed):
    first, _second = owed
    auditor = login_as("auditor")
    page = _text(auditor.get(f"/billing/invoices/{first}"))
    assert first in page and "instalments-0-amount" not in page and "/void" not in page
    assert (
        auditor.post_form(f"/billing/invoices/{first}/void", {"reason": "x"}, token_page="/").status_code
        == 403
    )
    assert login_as("staff").get(f"/billing/invoices/{first}").status_code == 403


def test_the_payments_list_and_the_event_log(app, login_as, owed):
    finance = login_as("finance")
    finance.get("/lang/en")
    page = _text(finance.get("/billing/payments"))
    assert "BOC-778899" in page and "Bank transfer" in page and "150.00" in page
    assert "BOC-778899" not in _text(finance.get("/billing/payments?method=online"))
    assert "No payment event yet." in _text(finance.get("/billing/webhooks"))


def test_the_customer_page_shows_invoices_and_the_late_payment_record(app, login_as, owed):
    first, _second = owed
    finance = login_as("finance")
    finance.get("/lang/en")
    page = _text(finance.get("/customers/IP01"))
    assert "Late-payment record" in page and first in page and "days overdue" in page
    assert "Invoices" in page and "Overdue" in page
    chinese = _text(login_as("finance").get("/customers/IP01"))
    assert "逾期记录" in chinese
    assert "Late-payment record" not in _text(login_as("staff").get("/customers/IP01"))
