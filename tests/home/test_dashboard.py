"""The dashboard: receivables by age, fees charged and short per month, payments per method,
customers under their low-balance threshold, cases waiting per state with SLA breaches — each
chart's numbers in a table; both languages; who may read it."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from formflow.billing import invoices, payments
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.home import charts
from formflow.ledger import alerts
from formflow.ledger import services as ledger
from formflow.rules.operators import business_today


@pytest.fixture
def money(app):
    with app.app_context():
        today = business_today()
        customer = customers.create("DB01", "看板客户", "B")
        ledger.post(
            "management_fee",
            [
                ledger.Line(ledger.customer_account(customer, "receivable"), Decimal("1000.00")),
                ledger.Line(ledger.system_account("revenue_management_fee"), Decimal("-1000.00")),
            ],
            key="db-owed",
        )
        for days_ago, amount in ((100, "400.00"), (40, "350.00"), (0, "250.00")):
            issued = today - timedelta(days=days_ago + 15)  # due 15 days after issue
            invoices.issue(customer, [invoices.Item("管理费", Decimal(amount))], issue_date=issued)
        payments.register(customer, "50", method="auto_debit", paid_on=today.isoformat(), key="db-pay")
        alerts.create_threshold_table([["B", 500]])
        db.session.commit()


def test_the_figures_add_up(app, money):
    with app.app_context():
        today = business_today()
        aging = charts.receivables_aging(today)
        assert aging.series[0].values == [
            Decimal("250.00"), Decimal("0"), Decimal("350.00"), Decimal("0"), Decimal("350.00"),
        ]  # fmt: skip  # the 50.00 paid went to the oldest
        by_method = charts.payments_by_method(today)
        assert by_method.series[0].values == [Decimal("0.00"), Decimal("0.00"), Decimal("50.00")]
        count, lowest = alerts.under_threshold()
        assert count == 1 and lowest[0][1] == Decimal("500.00")  # 50.00 prepaid under the tier's 500
        assert charts.low_balances().labels == ["DB01"]


def test_the_page_prints_each_chart_as_a_table_in_both_languages(app, login_as, money):
    finance = login_as("finance")
    finance.get("/lang/en")
    page = html.unescape(finance.get("/dashboard").get_data(as_text=True))
    for key in ("aging", "fees", "payments", "low", "cases"):
        assert f'data-testid="chart-{key}"' in page
    assert "Receivables by age" in page and "over 90 days" in page and "350.00" in page
    assert "vendor/chartjs/chart.umd.min.js" in page and "cdn" not in page.lower()
    assert re.search(r'<canvas id="canvas-aging" role="img" aria-label="Receivables by age"', page)
    chinese = html.unescape(login_as("finance").get("/dashboard").get_data(as_text=True))
    assert "应收账龄" in chinese and "自动扣款" in chinese


def test_staff_may_not_read_the_dashboard(app, login_as):
    assert login_as("staff").get("/dashboard").status_code == 403
    assert login_as("risk").get("/dashboard").status_code == 200
