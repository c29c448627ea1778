"""Bank accounts with their statement layout, imports, statement lines and their matches."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.extensions import db, utcnow
from formflow.money import Money

MONEY = Money()
#: a line's state: waiting, matched (to invoices, a registered payment or a customer), or
#: explained (a bank charge, a transfer out: with a note, posted or not)
LINE_STATUSES = ("unmatched", "matched", "explained")
#: what a match names: invoices paid by the line, a payment registered already, a customer's
#: prepaid balance topped up
MATCH_KINDS = ("invoices", "payment", "customer")


class BankAccount(db.Model):
    """A bank account whose statements are imported, with the column mapping of its bank's
    export (reconcile.mapping)."""

    __tablename__ = "reconcile_bank_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    bank: Mapped[str] = mapped_column(String(120), default="")
    account_number: Mapped[str] = mapped_column(String(60), default="")
    mapping: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BankImport(db.Model):
    """One statement file: previewed (kept until confirmed), then imported."""

    __tablename__ = "reconcile_bank_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("reconcile_bank_account.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: "previewed" or "imported"
    status: Mapped[str] = mapped_column(String(10), default="previewed")
    rows: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_at: Mapped[datetime | None]

    bank_account: Mapped[BankAccount] = relationship()


class BankLine(db.Model):
    """One line of a bank statement: money in (positive) or out (negative) on a day. The
    `dedupe_key` (the bank's serial number, else date+amount+reference+occurrence) is unique
    per account: the same line imported twice is one line."""

    __tablename__ = "reconcile_bank_line"
    __table_args__ = (
        UniqueConstraint("bank_account_id", "dedupe_key", name="uq_reconcile_bank_line_account_key"),
        Index("ix_reconcile_bank_line_status_booked", "status", "booked_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("reconcile_bank_account.id"))
    import_id: Mapped[int] = mapped_column(ForeignKey("reconcile_bank_import.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(300))
    booked_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    counterparty: Mapped[str] = mapped_column(String(200), default="")
    counter_account: Mapped[str] = mapped_column(String(60), default="")
    serial: Mapped[str] = mapped_column(String(100), default="")
    memo: Mapped[str] = mapped_column(String(500), default="")
    #: the account's balance after this line, when the bank's export gives it
    balance: Mapped[Decimal | None] = mapped_column(MONEY)
    #: the file's row it came from (1 = the header's next row)
    row_number: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="unmatched")
    explanation: Mapped[str] = mapped_column(String(500), default="")
    #: the journal an explanation posted (a bank charge), if any
    explanation_journal_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    bank_account: Mapped[BankAccount] = relationship()


class BankMatch(db.Model):
    """A bank line matched: what it confirmed (the payment registered for it, or the payment it
    proves), why, by whom; undone by unmatching (the payment it posted reversed)."""

    __tablename__ = "reconcile_bank_match"
    __table_args__ = (
        # one match in force per line, whatever races past the row lock
        Index(
            "uq_reconcile_bank_match_line_active", "line_id", unique=True,
            sqlite_where=sa.text("undone_at IS NULL"), postgresql_where=sa.text("undone_at IS NULL"),
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("reconcile_bank_line.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("billing_payment.id"), index=True)
    #: whether the payment was posted by this match (else it was registered before, and stays)
    posted: Mapped[bool] = mapped_column(default=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    #: {"code": "reference", "value": "INV-2026-000042"}: the reason, rendered in the reader's language
    reason: Mapped[dict] = mapped_column(JSON)
    write_off: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    write_off_journal_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal.id"))
    write_off_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("billing_invoice.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    line: Mapped[BankLine] = relationship()
    customer = relationship("Customer")
    payment = relationship("Payment")
