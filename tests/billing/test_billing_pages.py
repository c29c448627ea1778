"""The management-fee pages as finance reads them: the plans with their items, and the charges
grid — a posted month, a short one with what went to the receivable, a month after the end
skipped — in both languages; staff may not read them."""

from __future__ import annotations

import html
from datetime import date, datetime
from decimal import Decimal

import pytest

from formflow.billing import fee_run, plans
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger

MONTHLY = {"id": "monthly", "title": {"zh-CN": "月度管理费", "en": "Monthly fee"}, "when": "period",
           "frequency": "monthly", "amount": "300.00"}  # fmt: skip


@pytest.fixture
def charged(app):
    with app.app_context():
        customer = customers.create("BP01", "网格客户", "B")
        customer.created_at = datetime(2025, 1, 1)
        ledger.post_for_customer(customer, "top_up", Decimal("400.00"), key="bp-top-up", memo="预存")
        plans.save_plan("grid", {"zh-CN": "网格方案", "en": "Grid plan"}, {"items": [MONTHLY]})
        plans.subscribe(customer, "grid", date(2026, 9, 1), end=date(2026, 11, 1))
        db.session.commit()
        fee_run.run_fees(date(2026, 12, 1))
        db.session.commit()


def test_the_grid_shows_posted_short_and_skipped_months(app, login_as, charged):
    finance = login_as("finance")
    finance.get("/lang/en")
    page = html.unescape(finance.get("/billing/charges?end=2026-11&months=3").get_data(as_text=True))
    assert "2026-09" in page and "2026-11" in page and "BP01" in page
    assert "charge-posted" in page and "300.00" in page
    assert "charge-short" in page and "short: to the receivable 200.00" in page  # 100.00 was left in October
    assert "charge-skipped" in page  # November: the subscription ended
    chinese = login_as("finance").get("/billing/charges?end=2026-11&months=3").get_data(as_text=True)
    assert "已入账" in chinese and "余额不足，记应收" in chinese


def test_the_plans_page_lists_the_items(app, login_as, charged):
    page = html.unescape(login_as("finance").get("/billing/").get_data(as_text=True))
    assert "网格方案" in page and "grid" in page and "300.00" in page


def test_staff_may_not_read_the_fee_pages(app, login_as, charged):
    staff = login_as("staff")
    assert staff.get("/billing/").status_code == 403
    assert staff.get("/billing/charges").status_code == 403


def test_the_customer_page_shows_the_subscription_and_its_charges_to_finance_only(app, login_as, charged):
    finance = login_as("finance")
    finance.get("/lang/en")
    page = html.unescape(finance.get("/customers/BP01").get_data(as_text=True))
    assert 'data-testid="fee-subscriptions"' in page and "Grid plan" in page and "2026-09-01" in page
    assert 'data-testid="fee-charges"' in page and "short: to the receivable 200.00" in page
    assert 'data-testid="fee-subscriptions"' not in login_as("staff").get("/customers/BP01").get_data(
        as_text=True
    )
