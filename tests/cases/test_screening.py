"""Offboarding screening by `tick`: the offboarding template's rule over each customer's facts
(consecutive late periods, the open receivable and its age, violations and complaints counted from
closed cases, the credit flag) with its thresholds table opens a case — assigned to risk, the
facts on it — for each customer who meets it, and never a second while one is open."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.auth import services as auth
from formflow.billing import fee_run, invoices, late, payments, plans
from formflow.cases import screening
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.demo import load_demo
from formflow.extensions import db
from formflow.processes.models import Process
from formflow.records.models import Case
from formflow.workflows import engine, timers

FEE = {"zh-CN": "月度管理费", "en": "Monthly management fee"}


@pytest.fixture
def demo(app_ctx, zh):
    load_demo(echo=lambda _line: None)
    plans.save_plan(
        "screening_monthly", {"zh-CN": "月费", "en": "Monthly"},
        {"items": [{"id": "fee", "title": FEE, "when": "period", "frequency": "monthly", "amount": "300.00"}],
         "due_days": 10},
    )  # fmt: skip
    db.session.commit()


def _customer(code: str, months: int, *, paid_on: list[str | None] = ()) -> object:
    """A tier-C customer billed `months` months from January 2026 with nothing prepaid; the
    invoices paid on the dates given (None: not paid)."""
    customer = customers.create(code, f"客户{code}", "C")
    customer.created_at = datetime(2025, 1, 1)
    plans.subscribe(customer, "screening_monthly", date(2026, 1, 1))
    db.session.commit()
    for month in range(1, months + 1):  # a run each month: each invoice issued on its period's first day
        fee_run.run_fees(date(2026, month, 1))
    for invoice, day in zip(
        sorted(invoices.for_customer(customer.id), key=lambda i: i.id), paid_on, strict=False
    ):
        if day:
            payments.register(customer, invoice.total, method="online", paid_on=day, key=f"{code}-{day}",
                              chosen=[payments.Chosen(invoice.number, invoice.total)])  # fmt: skip
    db.session.commit()
    return customer


def _offboarding(customer) -> list[Case]:
    return list(
        db.session.execute(
            sa.select(Case).join(Process).where(Process.key == "offboarding", Case.customer_id == customer.id)
        ).scalars()
    )


def test_three_late_periods_open_one_offboarding_case_with_its_facts(demo):
    owing = _customer("SC01", 3, paid_on=["2026-01-20", None, None])  # paid 9 days late, then nothing
    record = late.late_record(owing.id, date(2026, 4, 1))
    assert record.consecutive_late_periods == 3 and len(record.late_payments) == 1
    assert (record.open_receivable, record.receivable_age_days) == (Decimal("600.00"), 49)  # due 02-11
    report = screening.screen_for_offboarding(datetime(2026, 4, 1, 2))
    [case] = _offboarding(owing)
    assert report.opened == [case.id]
    assert case.state == "draft" and case.created_by_id is None
    assert case.data["criteria"] == ["late_payments"] and case.data["late_payment_count"] == 3
    assert str(case.data["screening"]["open_receivable"]) == "600.00"  # money, never the float 600.0
    assert "连续逾期 3 期" in case.data["details"] and "未缴应收 600.00 元" in case.data["details"]
    again = screening.screen_for_offboarding(datetime(2026, 4, 2, 2))
    assert (again.opened, again.already_open) == ([], 1) and len(_offboarding(owing)) == 1


def test_a_customer_who_paid_on_time_in_between_is_not_a_candidate(demo):
    mixed = _customer("SC02", 3, paid_on=["2026-01-20", "2026-02-05", None])  # late, on time, open
    assert late.late_record(mixed.id, date(2026, 4, 1)).consecutive_late_periods == 1
    assert screening.screen_for_offboarding(datetime(2026, 4, 1, 2)).opened == []
    assert _offboarding(mixed) == []


def test_a_period_charged_from_prepaid_is_on_time(demo):
    customer = customers.create("SC03", "预存客户", "C")
    customer.created_at = datetime(2025, 1, 1)
    plans.subscribe(customer, "screening_monthly", date(2026, 1, 1))
    db.session.commit()
    fee_run.run_fees(date(2026, 1, 1))
    fee_run.run_fees(date(2026, 2, 1))
    record = late.late_record(customer.id, date(2026, 4, 1))
    assert [verdict for _period, verdict in record.periods] == ["late", "late"]
    payments.register(customer, "1000", method="online", paid_on="2026-04-01", key="sc03")
    db.session.commit()
    fee_run.run_fees(date(2026, 3, 1))  # March is taken from the prepaid the payment left
    record = late.late_record(customer.id, date(2026, 4, 1))
    assert record.periods[0] == ("2026-03-01", "on_time") and record.consecutive_late_periods == 0


def test_a_credit_flag_alone_opens_a_case_naming_it(demo):
    flagged = customers.create("SC04", "信用客户", "A")
    customers.update(flagged, {"credit_flag": True})
    db.session.commit()
    timers.tick(datetime(2026, 4, 1, 2))
    [case] = _offboarding(flagged)
    assert case.data["criteria"] == ["credit"] and case.data["screening"]["credit_flag"] is True


def test_a_closed_case_ends_the_wait_and_the_next_screening_may_open_another(demo):
    owing = _customer("SC05", 3)
    screening.screen_for_offboarding(datetime(2026, 4, 1, 2))
    [case] = _offboarding(owing)
    case.closed_at = datetime(2026, 4, 5)
    db.session.commit()
    assert len(screening.screen_for_offboarding(datetime(2026, 4, 6, 2)).opened) == 1


def test_risk_opens_the_case_the_screening_opened_from_its_inbox_and_the_case_list(demo, login_as):
    owing = _customer("SC09", 3)
    screening.screen_for_offboarding(datetime(2026, 4, 1, 2))
    [case] = _offboarding(owing)
    db.session.commit()
    risk = login_as("risk")
    page = risk.raw.get(f"/cases/{case.id}")
    assert page.status_code == 200 and "SC09" in page.get_data(as_text=True)
    assert f"/cases/{case.id}" in risk.raw.get("/inbox").get_data(as_text=True)
    assert f'/cases/{case.id}"' in risk.raw.get("/cases/?q=SC09").get_data(as_text=True)


def _complaint(code: str, outcome: str) -> None:
    """A complaint about customer `code` recorded by staff and decided by risk (uphold/reject)."""
    data = {"received_on": "2026-03-02", "source": "neighbour", "description": "夜间噪音扰民"}
    case = cases.start("complaint", code, data, submit=True, actor=auth.find_user("staff"))
    engine.perform(case, outcome, auth.find_user("risk"), comment="现场核实")
    db.session.commit()


def test_upheld_complaints_count_and_rejected_ones_do_not(demo):
    customer = customers.create("SC06", "投诉客户", "C")  # tier C: from two complaints
    db.session.commit()
    _complaint("SC06", "uphold")
    _complaint("SC06", "reject")
    screening.screen_for_offboarding(datetime(2026, 4, 1, 2))
    assert _offboarding(customer) == []  # one upheld complaint: not yet
    _complaint("SC06", "uphold")
    report = screening.screen_for_offboarding(datetime(2026, 4, 2, 2))
    [case] = _offboarding(customer)
    assert report.opened == [case.id] and case.data["criteria"] == ["complaints"]
    assert case.data["screening"]["complaints"] == 2 and "投诉 2 次" in case.data["details"]
