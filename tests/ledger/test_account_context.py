"""What rules read as `account`: the customer's balances and this month's posted deductions
and fees (net of reversals), so a monthly cap or a guard can read what really moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from formflow import rules
from formflow.customers import services as customers
from formflow.ledger import balances
from formflow.ledger import services as ledger
from formflow.processes.rule_inputs import rule_context


def test_rules_read_the_balances_and_this_months_deductions(app_ctx):
    customer = customers.create("AC01", "Context", "B")
    ledger.post_for_customer(customer, "top_up", Decimal("300"), key="t")
    first = ledger.post_for_customer(customer, "deduction", Decimal("120.40"), key="d1")
    ledger.post_for_customer(customer, "deduction", Decimal("30"), key="d2")
    ledger.post_for_customer(customer, "management_fee", Decimal("9.99"), key="f")
    ledger.reverse(first, key="r")
    context = rule_context({"amount": 50}, customer=customer)
    assert context["account"] == {
        "prepaid": Decimal("260.01"),
        "deposit": Decimal("0.00"),
        "receivable": Decimal("0.00"),
        "deducted_this_month": Decimal("30.00"),
        "fees_this_month": Decimal("9.99"),
    }
    cap = {"<=": [{"+": [{"var": "account.deducted_this_month"}, {"var": "data.amount"}]}, 80]}
    assert rules.evaluate(cap, context) is True
    assert rules.evaluate(cap, {**context, "data": {"amount": 50.01}}) is False


def test_a_deduction_counts_in_its_own_business_month_only(app_ctx):
    customer = customers.create("AC02", "Context", "B")
    ledger.post_for_customer(customer, "top_up", Decimal("100"), key="t")
    ledger.post_for_customer(customer, "deduction", Decimal("10"), key="d")
    now = datetime.now(UTC)
    assert balances.posted_this_month(customer, "deduction", now) == Decimal("10.00")
    assert balances.posted_this_month(customer, "deduction", now + timedelta(days=40)) == Decimal("0.00")
    assert balances.posted_this_month(customer, "deduction", now - timedelta(days=40)) == Decimal("0.00")


def test_a_customer_not_yet_stored_has_no_account(app_ctx):
    assert rule_context({}, customer={"code": "X"})["account"] == {}
