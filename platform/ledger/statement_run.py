"""The monthly statement run (`formflow tick`): last month's statement of every customer account
that had entries in that month or a balance other than zero at its end, issued once per
customer, account and period — a rerun, or a second node ticking at the same moment, issues
none again.

Each statement is claimed by its unique key (INSERT … ON CONFLICT DO NOTHING on SQLite and
PostgreSQL: the second writer waits for the first one's commit and then inserts nothing). A
customer's statements are issued in a savepoint of their own, so one that fails (a ledger that
does not add up) holds up no other; the run commits every CHUNK customers. The numbers stored
are those of the statement as built (ledger.statements), and the notice kept for the customer
is written in the business language; the listeners are told of each customer's new statements
(workflows.notify tells the staff, as with low-balance alerts: the ledger imports no workflow)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from formflow.customers.models import Customer
from formflow.extensions import db, utcnow
from formflow.i18n import business_zone
from formflow.ledger.balances import month_bounds
from formflow.ledger.models import CUSTOMER_ACCOUNTS, Account, Entry, StatementIssue
from formflow.ledger.statements import Statement, current_period, statement

log = logging.getLogger(__name__)

#: customers per transaction
CHUNK = 50

Listener = Callable[[Customer, list[StatementIssue]], None]
#: called with a customer and the statements just issued to it, in the run's transaction
LISTENERS: list[Listener] = []


def listen(listener: Listener) -> Listener:
    if listener not in LISTENERS:
        LISTENERS.append(listener)
    return listener


@dataclass
class StatementRunReport:
    """What one run did for `period`: statements issued now, issued before (by an earlier run or
    another node), customers with a statement due, statements that could not be made."""

    period: str
    issued: int = 0
    already: int = 0
    customers: int = 0
    failed: int = 0


def previous_period(now: datetime) -> str:
    """The business month before the one holding `now` (naive means UTC), as "2026-11"."""
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    first = moment.astimezone(business_zone()).replace(day=1)
    return current_period(first - timedelta(days=1))


def issue_monthly_statements(now: datetime | None = None) -> StatementRunReport:
    """Issue last month's statements (the month before `now`'s, in business time)."""
    period = previous_period(now or utcnow())
    report = StatementRunReport(period)
    due = _due(period)
    db.session.commit()  # the reading transaction ends here; each chunk commits on its own
    customers = [(customer_id, list(rows)) for customer_id, rows in groupby(due, key=lambda row: row[0])]
    report.customers = len(customers)
    for offset in range(0, len(customers), CHUNK):
        for customer_id, rows in customers[offset : offset + CHUNK]:
            wanted = [kind for _customer, kind, issued in rows if not issued]
            report.already += len(rows) - len(wanted)
            if wanted:
                _issue_to(db.session.get(Customer, customer_id), wanted, period, report)
        db.session.commit()
    return report


def _due(period: str) -> list[tuple[int, str, bool]]:
    """(customer id, account kind, issued already) of every customer account with entries in
    `period` or a balance other than zero at its end, ordered by customer and kind."""
    year, month = (int(part) for part in period.split("-"))
    start, end = month_bounds(datetime(year, month, 15, tzinfo=business_zone()))
    moved = sa.select(Entry.account_id).where(Entry.posted_at >= start, Entry.posted_at < end)
    last = (
        sa.select(sa.func.max(Entry.id).label("id"))
        .where(Entry.posted_at < end)
        .group_by(Entry.account_id)
        .subquery()
    )
    holding = sa.select(Entry.account_id).join(last, Entry.id == last.c.id).where(Entry.balance_after != 0)
    issued = sa.and_(
        StatementIssue.customer_id == Account.customer_id,
        StatementIssue.account == Account.kind,
        StatementIssue.period == period,
    )
    rows = db.session.execute(
        sa.select(Account.customer_id, Account.kind, StatementIssue.id.is_not(None))
        .outerjoin(StatementIssue, issued)
        .where(
            Account.customer_id.is_not(None),
            Account.kind.in_(list(CUSTOMER_ACCOUNTS)),
            Account.id.in_(sa.union(moved, holding)),
        )
        .order_by(Account.customer_id, Account.kind)
    ).all()
    return [(customer_id, kind, bool(issued)) for customer_id, kind, issued in rows]


def _issue_to(customer: Customer, kinds: list[str], period: str, report: StatementRunReport) -> None:
    """The customer's statements of `kinds` for `period`, and its listeners told, all or none."""
    new = []
    try:
        with db.session.begin_nested():
            for kind in kinds:
                issue = _claim(statement(customer, kind, period))
                if issue is None:
                    report.already += 1
                else:
                    new.append(issue)
            if new:
                for listener in LISTENERS:
                    listener(customer, new)
    except Exception:  # recorded and left for the next run; the other customers go on
        log.exception("statements of customer %s for %s could not be issued", customer.code, period)
        report.failed += len(kinds)
        return
    report.issued += len(new)


def _claim(found: Statement) -> StatementIssue | None:
    """The statement's record, written now; None when it was issued already."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):  # the business language
        title = _(
            "Statement of %(name)s (%(code)s), %(account)s account, %(period)s",
            name=found.customer.name, code=found.customer.code, account=found.account_label,
            period=found.period,
        )  # fmt: skip
        body = _(
            "Opening balance %(opening)s, debits %(debits)s, credits %(credits)s, "
            "closing balance %(closing)s; %(count)d entries.",
            opening=f"{found.opening:,.2f}", debits=f"{found.debits:,.2f}",
            credits=f"{found.credits:,.2f}", closing=f"{found.closing:,.2f}", count=len(found.lines),
        )  # fmt: skip
    row = {
        "customer_id": found.customer.id,
        "account": found.account,
        "period": found.period,
        "opening": found.opening,
        "debits": found.debits,
        "credits": found.credits,
        "closing": found.closing,
        "entry_count": len(found.lines),
        "title": title[:300],
        "body": body[:2000],
        "created_at": utcnow(),
    }
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(StatementIssue.__table__).on_conflict_do_nothing().returning(StatementIssue.id)
    issue_id = connection.execute(insert, row).scalar()
    return None if issue_id is None else db.session.get(StatementIssue, issue_id)


def issued_for(customer: Customer, *, limit: int = 24) -> list[StatementIssue]:
    """The customer's issued statements, newest period first."""
    return list(
        db.session.execute(
            sa.select(StatementIssue)
            .where(StatementIssue.customer_id == customer.id)
            .order_by(StatementIssue.period.desc(), StatementIssue.account)
            .limit(limit)
        ).scalars()
    )
