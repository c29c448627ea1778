"""Statements (对账单): one customer account over one business month — the opening balance,
every entry (date, kind, memo, case or reference, debit, credit, balance after) and the
closing balance, which is the opening balance plus the entries (checked as it is built: a
statement that does not add up is refused, it would mean the ledger does not)."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow.csvexport import safe_cell
from formflow.customers.models import Customer
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.i18n import business_zone
from formflow.ledger.balances import month_bounds
from formflow.ledger.models import CUSTOMER_ACCOUNTS, Account, Entry, Journal
from formflow.ledger.services import account_label

ZERO = Decimal("0.00")
PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def kind_labels() -> dict[str, str]:
    return {
        "top_up": _("Top-up"),
        "usage": _("Usage"),
        "refund": _("Refund"),
        "deduction": _("Deduction"),
        "management_fee": _("Management fee"),
        "adjustment": _("Adjustment"),
        "reversal": _("Reversal"),
    }


def posting_kind_label(kind: str) -> str:
    """A posting kind as people read it (a kind unknown here: as it is)."""
    others = {"payment": _("Payment"), "write_off": _("Write-off")}
    return kind_labels().get(kind) or others.get(kind, kind)


@dataclass
class StatementLine:
    entry_id: int
    on: date
    kind: str
    memo: str
    case_id: int | None
    reference: str
    debit: Decimal | None
    credit: Decimal | None
    balance: Decimal

    @property
    def kind_label(self) -> str:
        return kind_labels().get(self.kind, self.kind)


@dataclass
class Statement:
    customer: Customer
    account: str
    period: str  # "2026-11"
    opening: Decimal
    closing: Decimal
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def account_label(self) -> str:
        return account_label(self.account)

    @property
    def debits(self) -> Decimal:
        return sum((line.debit or ZERO for line in self.lines), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((line.credit or ZERO for line in self.lines), ZERO)


def parse_period(text: str | None) -> tuple[int, int]:
    """ "2026-11" as (2026, 11); Invalid at /period otherwise."""
    found = PERIOD.match((text or "").strip())
    if not found:
        raise Invalid([{"pointer": "/period", "message": _("A period is a month written as 2026-11.")}])
    return int(found.group(1)), int(found.group(2))


def current_period(moment: datetime | None = None) -> str:
    local = (moment or datetime.now(UTC)).astimezone(business_zone())
    return f"{local.year:04d}-{local.month:02d}"


def statement(customer: Customer, account_kind: str, period: str) -> Statement:
    """The statement of the customer's `account_kind` account for `period` ("2026-11")."""
    if account_kind not in CUSTOMER_ACCOUNTS:
        raise Invalid(
            [{"pointer": "/account", "message": _("Unknown account “%(kind)s”.", kind=account_kind)}]
        )
    year, month = parse_period(period)
    start, end = month_bounds(datetime(year, month, 15, tzinfo=business_zone()))
    account = db.session.execute(
        sa.select(Account).where(Account.customer_id == customer.id, Account.kind == account_kind)
    ).scalar_one_or_none()
    if account is None:
        return Statement(customer, account_kind, period, ZERO, ZERO)
    opening = (
        db.session.execute(
            sa.select(Entry.balance_after)
            .where(Entry.account_id == account.id, Entry.posted_at < start)
            .order_by(Entry.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        or ZERO
    )
    rows = db.session.execute(
        sa.select(Entry, Journal)
        .join(Journal, Entry.journal_id == Journal.id)
        .where(Entry.account_id == account.id, Entry.posted_at >= start, Entry.posted_at < end)
        .order_by(Entry.id)
    ).all()
    zone = business_zone()
    lines, running = [], opening
    for entry, journal in rows:
        running += entry.amount * account.sign
        lines.append(
            StatementLine(
                entry.id,
                entry.posted_at.replace(tzinfo=UTC).astimezone(zone).date(),
                journal.kind,
                journal.memo,
                journal.case_id,
                journal.reference,
                entry.amount if entry.amount > 0 else None,
                -entry.amount if entry.amount < 0 else None,
                entry.balance_after,
            )
        )
        if entry.balance_after != running:
            raise Invalid(
                [{"pointer": "", "message": _("The ledger does not add up at entry %(id)d.", id=entry.id)}]
            )
    return Statement(customer, account_kind, period, opening, running, lines)


def _width(text: str) -> int:
    """How many columns a text takes in a spreadsheet: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def xlsx_bytes(found: Statement) -> bytes:
    """The statement as an XLSX workbook: amounts are numbers shown with two decimals,
    columns as wide as their Chinese or English text."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def text(value) -> str:
        return ILLEGAL_CHARACTERS_RE.sub("", safe_cell(value))

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Statement")
    customer = found.customer
    title = _(
        "Statement of %(name)s (%(code)s), %(account)s account, %(period)s",
        name=customer.name, code=customer.code, account=found.account_label, period=found.period,
    )  # fmt: skip
    sheet.append([text(title)])
    sheet["A1"].font = Font(bold=True)
    header = [_("Date"), _("Kind"), _("Memo"), _("Case or reference"), _("Debit"), _("Credit"), _("Balance")]
    sheet.append([text(_("Opening balance")), "", "", "", None, None, found.opening])
    sheet.append([text(h) for h in header])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for line in found.lines:
        where = f"#{line.case_id}" if line.case_id else line.reference
        sheet.append(
            [
                line.on,
                text(line.kind_label),
                text(line.memo),
                text(where),
                line.debit,
                line.credit,
                line.balance,
            ]
        )
    sheet.append([text(_("Closing balance")), "", "", "", found.debits, found.credits, found.closing])
    widths = [_width(h) for h in header]
    for row in sheet.iter_rows(min_row=2):
        for index, cell in enumerate(row):
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
            shown = f"{cell.value:,.2f}" if isinstance(cell.value, Decimal) else str(cell.value or "")
            if index < len(widths):
                widths[index] = max(widths[index], min(_width(shown), 60))
    for index, width in enumerate(widths):
        sheet.column_dimensions["ABCDEFG"[index]].width = width + 2
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
