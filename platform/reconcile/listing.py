"""What the reconciliation pages list: unmatched lines and open invoices with their age, registered
payments no bank line confirms yet, the bank lines by filter (keyset pages, also what the export
streams), a line's matches, the months to close."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import tabular
from formflow.billing.models import Invoice, Payment
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import periods
from formflow.reconcile.matching import OPEN, PAYMENT_WINDOW, UNCONFIRMED
from formflow.reconcile.models import LINE_STATUSES, BankImport, BankLine, BankMatch

PAGE = 50
LIST_LIMIT = 100


def status_label(status: str) -> str:
    labels = {"unmatched": _("Unmatched"), "matched": _("Matched"), "explained": _("Explained")}
    return labels.get(status, status)


def explain_labels() -> dict[str, str]:
    return {
        "": _("Post nothing (the note only)"),
        "bank_charges": _("Post as a bank charge"),
        "refund_paid": _("Post as a refund paid out"),
    }


@dataclass
class Aged:
    item: object
    age: int


def unmatched_with_age(today: date, limit: int = LIST_LIMIT) -> list[Aged]:
    rows = db.session.execute(
        sa.select(BankLine)
        .where(BankLine.status == "unmatched")
        .order_by(BankLine.booked_on, BankLine.id)
        .limit(limit)
    ).scalars()
    return [Aged(line, (today - line.booked_on).days) for line in rows]


def open_invoices_with_age(today: date, limit: int = LIST_LIMIT) -> list[Aged]:
    """Open invoices, oldest due first, with the days since their due date (negative: not due)."""
    rows = db.session.execute(
        sa.select(Invoice).where(Invoice.status.in_(OPEN)).order_by(Invoice.due_date, Invoice.id).limit(limit)
    ).scalars()
    return [Aged(invoice, (today - invoice.due_date).days) for invoice in rows]


def registered_without_line(today: date, limit: int = LIST_LIMIT) -> list[Aged]:
    """Bank transfers registered (by a case or by hand) that no bank line confirms yet."""
    rows = db.session.execute(
        sa.select(Payment).where(*UNCONFIRMED).order_by(Payment.paid_on, Payment.id).limit(limit)
    ).scalars()
    return [Aged(payment, (today - payment.paid_on).days) for payment in rows]


def payment_candidates(line: BankLine) -> list[Payment]:
    """Registered payments of the line's amount, unconfirmed, received near its date."""
    return [
        aged.item
        for aged in registered_without_line(line.booked_on, limit=500)
        if aged.item.amount == line.amount and abs(aged.age) <= PAYMENT_WINDOW * 6
    ][:10]


def payment_by_id(payment_id) -> Payment | None:
    return db.session.get(Payment, payment_id) if payment_id else None


def matches_of(line: BankLine) -> list[BankMatch]:
    return list(
        db.session.execute(
            sa.select(BankMatch).where(BankMatch.line_id == line.id).order_by(BankMatch.id)
        ).scalars()
    )


def recent_imports(limit: int = 10) -> list[BankImport]:
    return list(
        db.session.execute(
            sa.select(BankImport)
            .where(BankImport.status == "imported")
            .order_by(BankImport.id.desc())
            .limit(limit)
        ).scalars()
    )


def recent_months(today: date, count: int = 6) -> list[dict]:
    """The last `count` ended months, newest first, each with its close status."""
    closed = {row.month: row for row in periods.all_periods()}
    months, year, month = [], today.year, today.month
    for _index in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        key = f"{year:04d}-{month:02d}"
        months.append({"month": key, "period": closed.get(key)})
    return months


@dataclass
class LineFilter:
    account: int | None = None
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str], viewer: Any = None) -> LineFilter:
        """The filters in query arguments (the page, its export and `export-list` alike); Invalid
        on a value that is not one."""
        read = tabular.FilterArgs(args)
        status, account = read.text("status") or "", read.text("account") or ""
        if status and status not in LINE_STATUSES:
            read.problem("status", _("Unknown status “%(s)s”.", s=status))
        if account and not account.isdigit():
            read.problem("account", _("No such bank account."))
        found = cls(
            account=int(account) if account.isdigit() else None,
            status=status if status in LINE_STATUSES else "",
            date_from=read.day("from"),
            date_to=read.day("to"),
            text=(read.text("q") or "")[:100],
        )
        read.check()
        return found

    def query(self):
        query = sa.select(BankLine)
        if self.account:
            query = query.where(BankLine.bank_account_id == self.account)
        if self.status:
            query = query.where(BankLine.status == self.status)
        if self.date_from:
            query = query.where(BankLine.booked_on >= self.date_from)
        if self.date_to:
            query = query.where(BankLine.booked_on <= self.date_to)
        if self.text:
            like = f"%{self.text}%"
            query = query.where(
                sa.or_(
                    BankLine.memo.ilike(like), BankLine.counterparty.ilike(like), BankLine.serial.ilike(like)
                )
            )
        return query

    def args(self) -> dict:
        return {
            key: value
            for key, value in {
                "account": self.account,
                "status": self.status,
                "q": self.text,
                "from": self.date_from.isoformat() if self.date_from else "",
                "to": self.date_to.isoformat() if self.date_to else "",
            }.items()
            if value
        }


def lines_page(
    filters: LineFilter, *, before: int | None = None, size: int = PAGE
) -> tuple[list, int | None]:
    """A page of lines newest first (with each one's active match); the id to continue before."""
    query = filters.query().order_by(BankLine.id.desc())
    if before:
        query = query.where(BankLine.id < before)
    rows = list(db.session.execute(query.limit(size + 1)).scalars())
    more = rows[size - 1].id if len(rows) > size else None
    rows = rows[:size]
    active = _active_matches([line.id for line in rows])
    return [(line, active.get(line.id)) for line in rows], more


def _active_matches(line_ids: list[int]) -> dict[int, BankMatch]:
    if not line_ids:
        return {}
    found = db.session.execute(
        sa.select(BankMatch).where(BankMatch.line_id.in_(line_ids), BankMatch.undone_at.is_(None))
    ).scalars()
    return {match.line_id: match for match in found}


def export_rows(filters: LineFilter, *, chunk: int = 1000) -> Iterator[tuple[BankLine, BankMatch | None]]:
    """Every line the filters show, oldest first, read in keyset chunks (never all at once)."""
    after = 0
    while True:
        rows = list(
            db.session.execute(
                filters.query().where(BankLine.id > after).order_by(BankLine.id).limit(chunk)
            ).scalars()
        )
        if not rows:
            return
        active = _active_matches([line.id for line in rows])
        for line in rows:
            yield line, active.get(line.id)
        after = rows[-1].id


def given_balances(form) -> dict[int, str]:
    """The closing balances typed on the close page, per bank account id."""
    found = {}
    for key, value in form.items():
        if key.startswith("balance-") and key.removeprefix("balance-").isdigit() and value.strip():
            found[int(key.removeprefix("balance-"))] = value.strip()
    return found


def money(value: Decimal | str | None) -> str:
    """An amount (or one kept as text in a close's facts) as 1,234.50."""
    return "" if value in (None, "") else f"{Decimal(str(value)):,.2f}"


def require_month(value: str) -> str:
    periods.month_of(value)
    if len(value) != 7:
        raise Invalid([{"pointer": "/month", "message": _("Not a month: %(v)s", v=value)}])
    return value
