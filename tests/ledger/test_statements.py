"""Statements (对账单): opening balance, every entry and a closing balance equal to opening plus
entries, for a month, as a page (zh-CN and en) and as an XLSX workbook with amounts as numbers;
the customer's account page shows balances and entries newest first."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import flask_babel
import pytest
from openpyxl import load_workbook

from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import balances, statements
from formflow.ledger import services as ledger


@pytest.fixture
def customer(app_ctx):
    found = customers.create("ST01", "对账单客户", "B")
    ledger.post_for_customer(found, "top_up", Decimal("1000.00"), key="t1", memo="银行转账充值")
    ledger.post_for_customer(found, "deduction", Decimal("120.50"), key="d1", memo="扣款")
    ledger.post_for_customer(found, "usage", Decimal("0.25"), key="u1", memo="短信用量")
    db.session.commit()
    return found


def test_the_closing_balance_is_the_opening_plus_the_entries(customer):
    found = statements.statement(customer, "prepaid", statements.current_period())
    assert found.opening == Decimal("0.00")
    assert [(line.kind, line.debit, line.credit, line.balance) for line in found.lines] == [
        ("top_up", None, Decimal("1000.00"), Decimal("1000.00")),
        ("deduction", Decimal("120.50"), None, Decimal("879.50")),
        ("usage", Decimal("0.25"), None, Decimal("879.25")),
    ]
    assert (
        found.closing
        == found.opening + found.credits - found.debits
        == balances.balances(customer)["prepaid"]
    )


def test_another_month_opens_with_the_balance_it_had(customer):
    later = statements.current_period(datetime.now(UTC) + timedelta(days=40))
    found = statements.statement(customer, "prepaid", later)
    assert (found.opening, found.lines, found.closing) == (Decimal("879.25"), [], Decimal("879.25"))
    earlier = statements.statement(
        customer, "prepaid", statements.current_period(datetime.now(UTC) - timedelta(days=40))
    )
    assert (earlier.opening, earlier.closing) == (Decimal("0.00"), Decimal("0.00"))


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "", "last month", "2026-11-01"])
def test_a_period_that_is_not_a_month_is_refused(customer, period):
    with pytest.raises(Invalid) as refused:
        statements.statement(customer, "prepaid", period)
    assert refused.value.errors[0]["pointer"] == "/period"


def test_the_statement_page_and_its_workbook(customer, login_as):
    finance = login_as("finance")
    period = statements.current_period()
    page = finance.get(f"/customers/ST01/statement?account=prepaid&period={period}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "期初余额" in body and "期末余额" in body and "879.25" in body and "扣款" in body
    finance.raw.set_cookie("lang", "en")
    flask_babel.refresh()  # the fixture's app context (and its cached locale) serves every request
    english = finance.get(f"/customers/ST01/statement?period={period}").get_data(as_text=True)
    assert "Opening balance" in english and "Closing balance" in english
    workbook = finance.get(f"/customers/ST01/statement?period={period}&format=xlsx")
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[-1][-1] == 879.25 and sheet.cell(row=len(values), column=7).number_format == "#,##0.00"
    assert values[3][5] == 1000 and values[4][4] == 120.5  # the top-up a credit, the deduction a debit
    assert sheet.column_dimensions["C"].width >= len("银行转账充值") * 2
    bad = finance.get("/customers/ST01/statement?period=2026-13")
    assert bad.status_code == 422


def test_the_account_page_lists_balances_and_entries_newest_first(customer, login_as):
    staff = login_as("staff")
    staff.raw.set_cookie("lang", "en")
    flask_babel.refresh()
    body = staff.get("/customers/ST01/account").get_data(as_text=True)
    entries = body[body.index('data-testid="entries"') :]
    assert entries.index("短信用量") < entries.index("扣款") < entries.index("银行转账充值")  # newest first
    assert "879.25" in body and "-120.50" in body and "+1,000.00" in body
    assert "Statement" in body and "Low-balance notices" not in body
