"""A subscription changed once it runs, as finance does it from its page: suspended from a day
(the fee run bills nothing from then, what came before stays owed), resumed (the periods in
between recorded as skipped, never charged later), ended, and given this customer's own amount;
days already charged refused with the message at the input and nothing written; an auditor may
read the page but not change it; both languages."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.audit.models import AuditEntry
from formflow.billing import fee_run, plans, subscriptions
from formflow.billing.models import FeeCharge, Subscription
from formflow.customers import services as customers
from formflow.errors import Conflict, Invalid
from formflow.extensions import db

MONTHLY = {"id": "monthly", "title": {"zh-CN": "月费", "en": "Monthly fee"}, "when": "period",
           "frequency": "monthly", "amount": "300.00"}  # fmt: skip


@pytest.fixture
def subscribed(app):
    """Customer SU01 on a monthly plan of 300.00 from 2026-01-01; the id of its subscription."""
    with app.app_context():
        plans.save_plan("su_monthly", {"zh-CN": "月费方案", "en": "Monthly plan"}, {"items": [MONTHLY]})
        customer = customers.create("SU01", "暂停客户", "B")
        customer.created_at = customer.created_at.replace(year=2025)
        subscription = plans.subscribe(customer, "su_monthly", date(2026, 1, 1))
        db.session.commit()
        return subscription.id


def _charges(subscription_id: int) -> dict[str, tuple[str, Decimal]]:
    rows = db.session.execute(
        sa.select(FeeCharge.period, FeeCharge.status, FeeCharge.amount).where(
            FeeCharge.subscription_id == subscription_id
        )
    )
    return {period: (status, amount) for period, status, amount in rows}


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _post(client, page: str, action: str, data: dict):
    """The form `action` of the subscription `page`, as its button sends it."""
    return client.post_form(f"{page}/{action}", data, token_page=page)


def test_suspended_billing_charges_what_came_before_and_skips_what_began_while_suspended(app, subscribed):
    with app.app_context():
        subscription = db.session.get(Subscription, subscribed)
        subscriptions.suspend(subscription, date(2026, 3, 1), "门店装修停业", actor=None)
        db.session.commit()
        fee_run.run_fees(date(2026, 5, 10))  # January and February still owed; nothing from March
        assert {period: status for period, (status, _a) in _charges(subscribed).items()} == {
            "2026-01-01": "short", "2026-02-01": "short",
        }  # fmt: skip
        skipped = subscriptions.resume(db.session.get(Subscription, subscribed), "2026-05-01", actor=None)
        db.session.commit()
        assert skipped == ["2026-03-01", "2026-04-01"]
        fee_run.run_fees(date(2026, 5, 10))
        fee_run.run_fees(date(2026, 5, 11))  # a rerun changes nothing
        charges = _charges(subscribed)
        assert charges["2026-03-01"] == ("skipped", Decimal("0.00")) == charges["2026-04-01"]
        assert charges["2026-05-01"] == ("short", Decimal("300.00")) and len(charges) == 5
        with pytest.raises(Conflict):
            subscriptions.resume(db.session.get(Subscription, subscribed), "2026-06-01")
        actions = db.session.execute(
            sa.select(AuditEntry.action).where(AuditEntry.object_type == "subscription")
        ).scalars()
        assert list(actions) == ["subscription.suspend", "subscription.resume"]


def test_finance_suspends_and_resumes_from_the_page_bad_days_come_back_at_their_inputs(
    app, login_as, subscribed
):
    with app.app_context():
        fee_run.run_fees(date(2026, 2, 15))  # January and February charged
    finance = login_as("finance")
    finance.get("/lang/en")
    page = f"/billing/subscriptions/{subscribed}"
    shown = _text(finance.get(page))
    assert "Subscription to Monthly plan" in shown and "2026-02-01" in shown and "Suspend billing" in shown

    refused = finance.post_form(
        f"{page}/suspend", {"suspended_from": "2026-13-01", "reason": ""}, token_page=page
    )
    text = _text(refused)
    assert refused.status_code == 422 and "Not a date (YYYY-MM-DD)." in text
    assert "Say why the subscription is suspended." in text and 'id="error-reason"' in text
    charged = finance.post_form(
        f"{page}/suspend", {"suspended_from": "2026-02-01", "reason": "x"}, token_page=page
    )
    assert charged.status_code == 422
    assert "The period from 2026-02-01 is already charged: give a day after it." in _text(charged)
    with app.app_context():
        assert db.session.get(Subscription, subscribed).status == "active"  # nothing written

    done = finance.post_form(
        f"{page}/suspend", {"suspended_from": "2026-03-01", "reason": "停业"}, token_page=page
    )
    assert done.status_code == 302
    back = _text(finance.get(page))
    assert "suspended · nothing billed from 2026-03-01" in back and "Resume billing" in back

    early = _post(finance, page, "resume", {"resume_on": "2026-02-20"})
    assert early.status_code == 422 and "before the suspension began (2026-03-01)" in _text(early)
    assert _post(finance, page, "resume", {"resume_on": "2026-06-01"}).status_code == 302
    with app.app_context():
        fee_run.run_fees(date(2026, 6, 2))
    shown = _text(finance.get(page))
    assert shown.count("suspended from 2026-03-01 to 2026-06-01") == 3  # March, April, May skipped
    assert "Monthly fee" in shown and "<code>monthly</code>" not in shown  # the item by its title
    assert "skipped" in shown
    grid = _text(finance.get("/billing/charges?end=2026-06&months=6"))
    assert "skipped" in grid.lower()
    chinese = login_as("finance")
    zh = _text(chinese.get(page))
    assert "订阅" in zh and "已跳过" in zh and "暂停计费" in zh and "Resume" not in zh


def test_end_and_this_customers_amount_refused_before_a_charged_period_then_billed_so(
    app, login_as, subscribed
):
    with app.app_context():
        fee_run.run_fees(date(2026, 3, 1))  # January to March
    finance = login_as("finance")
    finance.get("/lang/en")
    page = f"/billing/subscriptions/{subscribed}"
    refused = finance.post_form(
        f"{page}/change", {"end_date": "2026-02-15", "override-monthly": "0.001"}, token_page=page
    )
    text = _text(refused)
    assert refused.status_code == 422
    assert "The period from 2026-03-01 is already charged" in text and 'id="error-end_date"' in text
    assert (
        "Not an amount of money: more than 0, at most two decimals." in text
        and 'id="error-overrides-monthly"' in text
    )
    assert 'value="0.001"' in text  # what was typed comes back
    saved = finance.post_form(
        f"{page}/change", {"end_date": "2026-06-01", "override-monthly": "1,250.5"}, token_page=page
    )
    assert saved.status_code == 302
    with app.app_context():
        subscription = db.session.get(Subscription, subscribed)
        assert subscription.end_date == date(2026, 6, 1) and subscription.overrides == {"monthly": "1250.50"}
        fee_run.run_fees(date(2026, 8, 1))
        charges = _charges(subscribed)
        assert charges["2026-04-01"][1] == charges["2026-05-01"][1] == Decimal("1250.50")
        assert "2026-06-01" not in charges and len(charges) == 5
        with pytest.raises(Invalid) as raised:
            subscriptions.change(subscription, "2025-12-01", {"weekly": "10"})
        assert {e["pointer"] for e in raised.value.errors} == {"/end_date", "/overrides/weekly"}


def test_an_auditor_reads_the_subscription_but_cannot_change_it(app, login_as, subscribed):
    auditor = login_as("auditor")
    auditor.get("/lang/en")
    page = f"/billing/subscriptions/{subscribed}"
    shown = _text(auditor.get(page))
    assert "Subscription to Monthly plan" in shown and "Suspend billing" not in shown
    response = auditor.post_form(
        f"{page}/suspend", {"suspended_from": "2026-03-01", "reason": "x"}, token_page=page
    )
    assert response.status_code == 403
    assert auditor.get("/billing/subscriptions/999999").status_code == 404
