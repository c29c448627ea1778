"""Payment reminders (`formflow tick`): before and after each open invoice's (or instalment's)
due date, at the offsets of the global table `payment_reminders` (column `offset_days`: −3, 1,
7, 15; `escalate_to`: a role told after that reminder, e.g. risk on the last row).

Each (invoice or instalment, offset) is sent once: its unique key in billing_reminder is the
claim (INSERT … ON CONFLICT DO NOTHING), so a rerun or two nodes send nothing twice. A tick that
missed some days sends only the latest offset that is due (nobody wants three letters at once),
and none dated before the invoice was issued. The reminder is kept for the customer (their
notices), and the listeners — workflows.notify: in-app for finance, an e-mail to the customer's
contact, the escalation — hear of it in the same transaction; billing knows no workflow.

The customer's text is written in the business language (zh-CN by default)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from formflow.billing.fee_run import business_date
from formflow.billing.models import Instalment, Invoice, Reminder
from formflow.extensions import db, utcnow
from formflow.tables.cells import columns_of, key_column_of
from formflow.tables.lookups import current_global_tables

log = logging.getLogger(__name__)

TABLE = "payment_reminders"
DEFAULT_OFFSETS = ((-3, ""), (1, ""), (7, ""), (15, "risk"))
CHUNK = 200

Listener = Callable[[Reminder], None]
LISTENERS: list[Listener] = []


def listen(listener: Listener) -> Listener:
    if listener not in LISTENERS:
        LISTENERS.append(listener)
    return listener


@dataclass
class ReminderReport:
    today: date
    sent: int = 0
    escalated: int = 0
    targets: int = 0
    offsets: list[int] = field(default_factory=list)


def offsets() -> list[tuple[int, str]]:
    """(offset in days, role to escalate to or "") from the table, else the defaults."""
    version = current_global_tables().get(TABLE)
    if version is None:
        return list(DEFAULT_OFFSETS)
    table = version.as_table()
    names = [column.name for column in columns_of(table)]
    key = key_column_of(table)
    if key not in names:
        return list(DEFAULT_OFFSETS)
    found = []
    for row in table.get("rows") or []:
        record = dict(zip(names, row, strict=False))
        try:
            days = int(record.get(key))
        except (TypeError, ValueError):
            continue
        found.append((days, str(record.get("escalate_to") or "")))
    return sorted(found) or list(DEFAULT_OFFSETS)


@dataclass(frozen=True)
class _Target:
    key: str  # "invoice:42", "instalment:7"
    invoice: Invoice
    instalment: Instalment | None
    due: date

    @property
    def amount(self):
        return (self.instalment or self.invoice).outstanding


def send_reminders(now: datetime) -> ReminderReport:
    """`formflow tick`'s job: the reminders due by the business date of `now`."""
    today = business_date(now)
    report = ReminderReport(today)
    schedule = offsets()
    report.offsets = [days for days, _role in schedule]
    horizon = today + timedelta(days=max(0, -report.offsets[0]))  # the earliest reminder's reach
    ids = list(
        db.session.execute(
            sa.select(Invoice.id)
            .where(Invoice.status.in_(("issued", "partially_paid")), Invoice.due_date <= horizon)
            .order_by(Invoice.id)
        ).scalars()
    )
    for offset in range(0, len(ids), CHUNK):
        chunk = db.session.execute(
            sa.select(Invoice).where(Invoice.id.in_(ids[offset : offset + CHUNK]))
        ).scalars()
        for invoice in chunk:
            for target in _targets(invoice):
                report.targets += 1
                _remind(target, schedule, today, report)
        db.session.commit()
    return report


def _targets(invoice: Invoice) -> list[_Target]:
    parts = [i for i in invoice.instalments if i.status in ("open", "partially_paid")]
    if parts:
        return [_Target(f"instalment:{i.id}", invoice, i, i.due_date) for i in parts]
    if any(i.status in ("proposed", "paid") for i in invoice.instalments):
        return []  # waiting for approval, or the rest of a plan is paid
    return [_Target(f"invoice:{invoice.id}", invoice, None, invoice.due_date)]


def _remind(target: _Target, schedule: list[tuple[int, str]], today: date, report: ReminderReport) -> None:
    """The latest reminder due for `target` (none dated before its invoice was issued), once."""
    due = [
        (days, role)
        for days, role in schedule
        if target.invoice.issue_date <= target.due + timedelta(days=days) <= today
    ]
    if not due:
        return
    days, escalate = due[-1]
    title, body = _text(target, days)
    reminder_id = _claim(target, days, escalate, title, body)
    if reminder_id is None:
        return  # sent before (or by another node now)
    reminder = db.session.get(Reminder, reminder_id)
    for listener in LISTENERS:
        listener(reminder)
    report.sent += 1
    report.escalated += bool(escalate)


def _text(target: _Target, days: int) -> tuple[str, str]:
    invoice = target.invoice
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):
        what = (
            _("instalment %(seq)d of invoice %(number)s", seq=target.instalment.seq, number=invoice.number)
            if target.instalment is not None
            else _("invoice %(number)s", number=invoice.number)
        )
        if days < 0:
            title = _("Payment reminder: %(what)s is due on %(day)s", what=what, day=target.due.isoformat())
        else:
            title = _("Payment overdue: %(what)s was due on %(day)s", what=what, day=target.due.isoformat())
        body = _(
            "%(name)s (%(code)s): %(amount)s is left to pay on %(what)s, due on %(day)s. "
            "Please pay by bank transfer quoting %(number)s, or online. "
            "If you have paid already, please ignore this reminder.",
            name=invoice.customer.name,
            code=invoice.customer.code,
            amount=f"{target.amount:,.2f}",
            what=what,
            day=target.due.isoformat(),
            number=invoice.number,
        )
    return title[:300], body[:2000]


def _claim(target: _Target, days: int, escalate: str, title: str, body: str) -> int | None:
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = (
        dialect.insert(Reminder.__table__)
        .values(
            target=target.key,
            offset_days=days,
            invoice_id=target.invoice.id,
            customer_id=target.invoice.customer_id,
            escalated_to=escalate,
            title=title,
            body=body,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(Reminder.id)
    )
    return connection.execute(insert).scalar()


def for_customer(customer_id: int, *, limit: int = 50) -> list[Reminder]:
    return list(
        db.session.execute(
            sa.select(Reminder)
            .where(Reminder.customer_id == customer_id)
            .order_by(Reminder.id.desc())
            .limit(limit)
        ).scalars()
    )
