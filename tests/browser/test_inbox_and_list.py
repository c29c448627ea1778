"""Issue 15-17, in the browser: finance filters and sorts the inbox, selects every case with
the header box and approves them in one go (the executed deductions then wait on nobody);
the case list finds them by the workflow state's title and exports exactly that; staff pick
a new case's customer by typing part of its name."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from browser_support import ARTIFACTS
from werkzeug.datastructures import FileStorage

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases import uploads
from formflow.extensions import db

pytestmark = [pytest.mark.browser, pytest.mark.live_db]


def log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("demo")
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/")
    page.context.add_cookies([{"name": "lang", "value": "en", "url": page.url}])


def deductions(live_app, plan: list[tuple[str, str]]) -> list[int]:
    """Deductions submitted by staff, one per (customer, amount); below every dual-approval
    threshold, so one approval executes each."""
    ids = []
    with live_app.app_context():
        staff = auth.find_user("staff")
        for code, amount in plan:
            upload = FileStorage(
                io.BytesIO(b"%PDF-1.4 evidence"), "收货单.pdf", content_type="application/pdf"
            )
            data = {
                "reason": "quality",
                "amount": Decimal(amount),
                "incident_date": "2026-11-20",
                "evidence": uploads.store_upload("/evidence", upload, {}, actor=staff),
            }
            ids.append(cases.start("deduction", code, data, submit=True, actor=staff).id)
            db.session.commit()
    return ids


def inbox_ids(page) -> list[int]:
    return [
        int(n)
        for n in page.locator("table.inbox tbody tr").evaluate_all("rows => rows.map(r => r.dataset.case)")
    ]


def test_finance_filters_selects_all_and_approves_then_finds_and_exports_them(page, live_app):
    small, large, middle = deductions(live_app, [("C001", "120.00"), ("C003", "1500.50"), ("C001", "300.00")])
    log_in(page, "finance")
    page.goto("/inbox")
    assert sorted(inbox_ids(page)) == sorted([small, large, middle])

    # filter by part of a customer's name, then clear it again
    page.get_by_label("Customer", exact=True).fill("华东")  # C001 华东建材有限公司
    page.get_by_role("button", name="Filter").click()
    assert sorted(inbox_ids(page)) == sorted([small, middle])
    assert "2 of 3 match." in page.locator("main").inner_text()
    page.get_by_role("link", name="Clear the filters").click()
    assert len(inbox_ids(page)) == 3

    # sort by amount, then the other way
    page.locator("thead").get_by_role("link", name="Amount").click()
    assert inbox_ids(page) == [small, middle, large]
    page.locator("thead").get_by_role("link", name=re.compile("Amount")).click()
    assert inbox_ids(page) == [large, middle, small]

    # the header box ticks every case; unticking one leaves it half-ticked
    select_all = page.locator("input[data-select-all]")
    assert select_all.is_visible()
    select_all.check()
    boxes = page.locator("input[name=case]")
    assert boxes.count() == 3 and all(boxes.nth(i).is_checked() for i in range(3))
    boxes.nth(1).uncheck()
    assert select_all.evaluate("box => box.indeterminate") is True
    select_all.check()
    assert all(boxes.nth(i).is_checked() for i in range(3))
    page.screenshot(path=str(ARTIFACTS / "inbox-selected.png"), full_page=True)
    page.get_by_role("button", name="Approve selected").click()
    page.wait_for_url(re.compile(r".*/inbox\?sort=-amount$"))
    assert page.locator(".flash-success").count() == 3
    # executed: in the dispute window, which a timer closes: nobody's inbox
    assert "Nothing is waiting for you." in page.locator("main").inner_text()
    assert page.locator('a[href="/inbox"] .nav-count').count() == 0

    # the case list finds them by the step's title, and exports exactly those
    page.goto("/cases/")
    page.get_by_label("State").select_option(label="Executed, dispute window")
    page.get_by_role("button", name="Filter").click()
    main = page.locator("main").inner_text()
    assert "3 cases match." in main and main.count("Executed, dispute window") >= 3
    listed = [int(n) for n in page.locator("table tbody tr td:first-child a").all_inner_texts()]
    assert sorted(listed) == sorted([small, large, middle])
    page.screenshot(path=str(ARTIFACTS / "cases-by-state.png"), full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    body = download_info.value.path().read_bytes()
    assert body.startswith("\ufeff".encode())
    header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[:5] == ["Case", "Process", "Customer code", "Customer name", "State"]
    assert [int(row[0]) for row in rows] == listed
    assert {row[4] for row in rows} == {"Executed, dispute window"}
    assert "1,500.50" in {cell for row in rows for cell in row}


def test_staff_pick_the_customer_by_typing_part_of_its_name(page):
    log_in(page, "staff")
    page.goto("/cases/new")
    page.get_by_label("Process").select_option(label="Customer deduction")
    page.get_by_label("Customer", exact=True).press_sequentially("星河")  # C002 星河物流股份有限公司
    options = page.locator("#customer-options option")
    options.first.wait_for(state="attached")  # filled from /customers/search as one types
    assert options.first.get_attribute("value") == "C002"
    assert "星河物流" in options.first.get_attribute("label")
    page.get_by_label("Customer", exact=True).fill("c002")  # a code in any case will do
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r".*/cases/new\?process=deduction&customer=C002$"))
    assert "C002" in page.locator("main").inner_text()
    page.goto("/cases/new?process=deduction&customer=nobody")
    assert "No customer has the code or name nobody." in page.locator("#customer-error").inner_text()
