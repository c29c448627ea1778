"""Issue 16's customer self-service, in the browser: on a phone-sized window the customer
opens the link, reads the page without scrolling sideways, downloads the statement and
disputes a deduction; staff then log in and find the dispute case."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from browser_support import ARTIFACTS, log_in
from werkzeug.datastructures import FileStorage

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases import uploads
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.selfservice import links
from formflow.workflows import engine

pytestmark = [pytest.mark.browser, pytest.mark.live_db]

PHONE = {"width": 390, "height": 844}


def _executed_deduction_and_link(app) -> tuple[int, str]:
    with app.app_context():
        staff = auth.find_user("staff")
        customer = customers.get_by_code("C003")
        ledger.post_for_customer(customer, "top_up", Decimal("500.00"), key="browser-ss-seed")
        upload = FileStorage(io.BytesIO(b"%PDF-1.4 evidence"), "receipt.pdf", content_type="application/pdf")
        data = {
            "reason": "quality",
            "amount": Decimal("80.00"),
            "incident_date": "2026-11-20",
            "evidence": uploads.store_upload("/evidence", upload, {}, actor=staff),
        }
        case = cases.start("deduction", "C003", data, submit=True, actor=staff)
        engine.perform(case, "approve", auth.find_user("finance"))
        assert case.state == "executed"
        link = links.create(customer, 30, actor=staff)
        db.session.commit()
        return case.id, links.token_for(link)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_phone_the_customer_downloads_the_statement_and_disputes_a_deduction_staff_see_it(
    page, live_app
):
    deduction, token = _executed_deduction_and_link(live_app)
    page.set_viewport_size(PHONE)
    page.context.clear_cookies()
    page.goto(f"/s/{token}")
    assert "余额" in page.locator("h2").first.inner_text()
    assert "420.00" in page.locator('[data-testid="balances"]').inner_text()
    assert _fits(page), "the page scrolls sideways on a phone"
    page.screenshot(path=str(ARTIFACTS / "self-service-phone.png"), full_page=True)

    with page.expect_download() as pdf:
        page.locator('[data-testid="statements"] a[data-testid^="pdf-"]').first.click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    assert Path(pdf.value.path()).read_bytes()[:4] == b"%PDF"

    page.locator(f'[data-testid="dispute-{deduction}"]').click()
    assert _fits(page)
    page.locator("textarea[name=customer_statement]").fill("")
    page.locator('[data-testid="dispute-form"] button[type=submit]').click()
    assert page.locator('[data-testid="error-customer_statement"]').is_visible()
    page.locator("textarea[name=customer_statement]").fill("货物验收合格，这笔扣款没有依据。")
    page.locator('[data-testid="dispute-form"] button[type=submit]').click()
    filed = page.locator('[data-testid="filed"]')
    dispute = re.search(r"#(\d+)", filed.inner_text()).group(1)
    assert "对此扣款提出申诉" not in page.locator('[data-testid="deductions"]').inner_text()

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "staff")
    page.goto("/cases/")
    page.locator(f'a[href$="/cases/{dispute}"]').first.click()
    page.wait_for_url(re.compile(rf".*/cases/{dispute}$"))
    body = page.locator("main").inner_text()
    assert "货物验收合格，这笔扣款没有依据。" in body and "80.00" in body
