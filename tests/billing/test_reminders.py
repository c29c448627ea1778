"""Payment reminders by `tick`: at the offsets of the table `payment_reminders` (−3, +1, +7, +15
by default) from each open invoice's or instalment's due date, each sent once (a rerun sends
nothing), only the latest one due when ticks were missed, none for a paid invoice; finance hears
in the app, the customer's contact by e-mail, and after the last one the escalation role."""

from __future__ import annotations

import email
from datetime import date, datetime
from decimal import Decimal
from email import policy

import pytest
import sqlalchemy as sa
from workflows.effects_support import smtp_sink

from formflow.billing import instalments, invoices, payments, reminders
from formflow.billing.models import Reminder
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.tables.services import create_global_table, save_global_table
from formflow.workflows import notify, timers
from formflow.workflows.models import Notification


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0)  # 10:00 in Shanghai


@pytest.fixture
def invoice(app_ctx, zh):
    customer = customers.create(
        "RM01", "催缴客户", "C", contacts=[{"person": "王会计", "email": "wang@customer.test"}]
    )
    ledger.post(
        "management_fee",
        [
            ledger.Line(ledger.customer_account(customer, "receivable"), Decimal("800.00")),
            ledger.Line(ledger.system_account("revenue_management_fee"), Decimal("-800.00")),
        ],
        key="rm-owed",
    )
    found = invoices.issue(
        customer, [invoices.Item("管理费", Decimal("800.00"))], issue_date=date(2026, 3, 1)
    )
    db.session.commit()
    assert found.due_date == date(2026, 3, 16)
    return found


def _sent() -> list[tuple[str, int, str]]:
    rows = db.session.execute(sa.select(Reminder).order_by(Reminder.id)).scalars()
    return [(row.target, row.offset_days, row.escalated_to) for row in rows]


def test_each_reminder_is_sent_once_at_its_offset(invoice):
    target = f"invoice:{invoice.id}"
    assert reminders.send_reminders(_at(date(2026, 3, 12))).sent == 0  # 4 days before
    assert reminders.send_reminders(_at(date(2026, 3, 13))).sent == 1
    assert reminders.send_reminders(_at(date(2026, 3, 13))).sent == 0  # a rerun
    assert reminders.send_reminders(_at(date(2026, 3, 17))).sent == 1
    assert _sent() == [(target, -3, ""), (target, 1, "")]
    [first, _second] = db.session.execute(sa.select(Reminder).order_by(Reminder.id)).scalars()
    assert first.title == f"缴费提醒：缴费通知单 {invoice.number} 将于 2026-03-16 到期"
    assert "800.00" in first.body and invoice.number in first.body


def test_missed_ticks_send_only_the_latest_reminder_and_the_last_escalates(invoice):
    report = reminders.send_reminders(_at(date(2026, 4, 1)))  # +16 days: -3, +1, +7, +15 all due
    assert (report.sent, report.escalated) == (1, 1)
    assert _sent() == [(f"invoice:{invoice.id}", 15, "risk")]
    rows = db.session.execute(sa.select(Notification).order_by(Notification.id)).scalars().all()
    assert [(row.role, row.email) for row in rows] == [
        ("finance", None), (None, "wang@customer.test"), ("risk", None),
    ]  # fmt: skip
    assert rows[2].subject.startswith("最后一次提醒后仍未缴费")


def test_a_paid_invoice_gets_no_more_reminders(invoice):
    reminders.send_reminders(_at(date(2026, 3, 13)))
    payments.register(invoice.customer, "800", method="online", paid_on="2026-03-14", key="rm-paid")
    db.session.commit()
    assert reminders.send_reminders(_at(date(2026, 3, 20))).sent == 0


def test_instalments_are_reminded_each_on_its_own_date(invoice, make_user):
    from formflow.auth.models import User

    finance = db.session.get(User, make_user("rm-fin", roles=["finance"]))
    manager = db.session.get(User, make_user("rm-mgr", roles=["manager"]))
    instalments.propose(invoice, [("2026-04-01", "400"), ("2026-05-01", "400")], actor=finance)
    assert reminders.send_reminders(_at(date(2026, 3, 29))).sent == 0  # a plan waiting for approval
    instalments.approve(invoice, actor=manager)
    db.session.commit()
    assert reminders.send_reminders(_at(date(2026, 3, 29))).sent == 1
    first, second = invoice.instalments
    assert _sent() == [(f"instalment:{first.id}", -3, "")]
    reminders.send_reminders(_at(date(2026, 4, 28)))
    assert _sent()[-2:] == [(f"instalment:{first.id}", 15, "risk"), (f"instalment:{second.id}", -3, "")]


def test_the_offsets_come_from_the_parameter_table(invoice):
    create_global_table(
        reminders.TABLE, {"zh-CN": "催缴时点", "en": "Payment reminders"},
        [{"name": "offset_days", "type": "integer"}, {"name": "escalate_to", "type": "text"}], "offset_days",
    )  # fmt: skip
    save_global_table(reminders.TABLE, [[-1, ""], [3, "manager"]], expected_number=1)
    db.session.commit()
    assert reminders.offsets() == [(-1, ""), (3, "manager")]
    assert reminders.send_reminders(_at(date(2026, 3, 14))).sent == 0
    assert reminders.send_reminders(_at(date(2026, 3, 19))).escalated == 1
    assert _sent() == [(f"invoice:{invoice.id}", 3, "manager")]


def test_tick_sends_the_reminder_and_emails_the_customers_contact(invoice, app, monkeypatch):
    with smtp_sink() as sink:
        monkeypatch.setitem(app.config, "SMTP_HOST", sink.host)
        monkeypatch.setitem(app.config, "SMTP_PORT", sink.port)
        report = timers.tick(_at(date(2026, 3, 13)))
        assert report.jobs["send_reminders"].sent == 1
        assert [message["to"] for message in sink.messages] == [["wang@customer.test"]]
        parsed = email.message_from_bytes(sink.messages[0]["data"], policy=policy.default)
        assert invoice.number in parsed["Subject"]
        assert notify.send_pending_emails(_at(date(2026, 3, 13))).sent == 0
