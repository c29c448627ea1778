"""The ledger: accounts, journals (one posting each) and their entries (lines).

Double-entry: a journal's entries sum to zero, a debit positive and a credit negative
(a top-up: bank +100, the customer's prepaid -100). An account's balance as people read it
is its entries' sum on its normal side: debit-normal accounts (bank, receivable) count
debits up, credit-normal ones (prepaid, deposit, revenue, refunds) count credits up — a
customer with 100 prepaid has a prepaid balance of 100.

Customer accounts keep their balance in a row, changed by one conditional UPDATE per
posting (services.post), and each of their entries carries `balance_after`. System accounts
(bank, revenue by kind, refunds) keep no such row: every posting would queue behind it; their
balances are sums over their indexed entries.

Journals and entries are append-only: the database refuses UPDATE and DELETE (migration
0009). A mistake is undone by a reversal journal naming the original."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.extensions import db, utcnow
from formflow.money import Money

#: a customer's accounts, and whether each counts debits up
CUSTOMER_ACCOUNTS = {"prepaid": "credit", "deposit": "credit", "receivable": "debit"}
#: the system's accounts (no customer), and whether each counts debits up
SYSTEM_ACCOUNTS = {
    "bank": "debit",
    "revenue_management_fee": "credit",
    "revenue_deduction": "credit",
    "revenue_usage": "credit",
    "refunds": "credit",  # refunds approved, owed to customers until paid out
    "write_offs": "debit",  # small differences written off in reconciliation (reconcile.matching)
    "bank_charges": "debit",  # the bank's own fees, explained from its statement
}
#: customer accounts that may go below zero (a receivable paid beyond what was owed)
MAY_GO_NEGATIVE = {"receivable"}
#: what a journal is for
JOURNAL_KINDS = (
    "top_up", "usage", "refund", "deduction", "management_fee", "payment", "adjustment", "reversal",
    "write_off",
)  # fmt: skip

MONEY = Money()


def side_sign(normal_side: str) -> int:
    """+1 when a debit counts up on an account of this normal side, -1 when a credit does."""
    return 1 if normal_side == "debit" else -1


class Account(db.Model):
    __tablename__ = "ledger_account"
    __table_args__ = (UniqueConstraint("customer_id", "kind", name="uq_ledger_account_customer_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "customer:C001:prepaid", "system:bank": what the account is, for people and exports
    code: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    #: "debit" or "credit": the side that counts up
    normal_side: Mapped[str] = mapped_column(String(6))
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    #: a customer account's balance (changed by postings only); None for system accounts
    balance: Mapped[Decimal | None] = mapped_column(MONEY)
    #: a prepaid account's own low-balance threshold (else its tier's, see ledger.alerts)
    alert_below: Mapped[Decimal | None] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer = relationship("Customer")

    @property
    def sign(self) -> int:
        return side_sign(self.normal_side)


class Journal(db.Model):
    """One posting; its entries sum to zero."""

    __tablename__ = "ledger_journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: unique per posting: `case:{id}:{state}:{round}:{index}`, `fee:{subscription}:{period}`,
    #: `api:{Idempotency-Key}`; the same key again gives this journal back
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    #: SHA-256 of what was asked (kind, lines, memo, reference, case, reversed journal): a
    #: replay with other content is refused
    content_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    memo: Mapped[str] = mapped_column(String(500), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    #: the journal this one reverses (at most one reversal each)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal.id"), unique=True)
    posted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: the business day it counts on (a payment's day received); its period must be open
    #: (ledger.periods). Journals posted before migration 0018 have none: their posted_at counts.
    value_date: Mapped[date | None] = mapped_column(Date, index=True)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: what else the posting carries (the case's state and round, an API client…)
    details: Mapped[dict | None] = mapped_column(JSON)

    entries: Mapped[list[Entry]] = relationship(
        back_populates="journal", order_by="Entry.id", lazy="selectin"
    )


class Entry(db.Model):
    """One line of a journal: `amount` on `account`, a debit positive, a credit negative."""

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_entry_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("ledger_journal.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    #: the account's balance (as people read it) after this entry; customer accounts only
    balance_after: Mapped[Decimal | None] = mapped_column(MONEY)
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)

    journal: Mapped[Journal] = relationship(back_populates="entries")
    account: Mapped[Account] = relationship(lazy="joined")


class LowBalanceAlert(db.Model):
    """A prepaid balance that fell below its threshold: the notice kept for the customer, once
    per crossing (the posting that crossed it)."""

    __tablename__ = "ledger_low_balance_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    journal_id: Mapped[int] = mapped_column(ForeignKey("ledger_journal.id"), unique=True)
    balance_before: Mapped[Decimal] = mapped_column(MONEY)
    balance_after: Mapped[Decimal] = mapped_column(MONEY)
    threshold: Mapped[Decimal] = mapped_column(MONEY)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    customer = relationship("Customer")


class StatementIssue(db.Model):
    """A monthly statement issued by `formflow tick` (ledger.statement_run): one per customer,
    account and period, with its numbers as issued and the notice kept for the customer. The
    unique key is the claim: two nodes issuing at once write it once."""

    __tablename__ = "ledger_statement_issue"
    __table_args__ = (
        UniqueConstraint(
            "customer_id", "account", "period", name="uq_ledger_statement_issue_customer_account_period"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    #: the customer account's kind (prepaid, deposit, receivable)
    account: Mapped[str] = mapped_column(String(40))
    #: the business month, "2026-11"
    period: Mapped[str] = mapped_column(String(7), index=True)
    opening: Mapped[Decimal] = mapped_column(MONEY)
    debits: Mapped[Decimal] = mapped_column(MONEY)
    credits: Mapped[Decimal] = mapped_column(MONEY)
    closing: Mapped[Decimal] = mapped_column(MONEY)
    entry_count: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer = relationship("Customer")


class LedgerPeriod(db.Model):
    """A business month's close (月结): once closed, no posting dated inside it is accepted
    (ledger.periods); reopening needs a request and a second person's approval."""

    __tablename__ = "ledger_period"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "2026-11"
    month: Mapped[str] = mapped_column(String(7), unique=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date, index=True)
    #: "closed" or "open" (reopened)
    status: Mapped[str] = mapped_column(String(10), default="closed")
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: what the close asserted: the bank's closing balance and the ledger's, the lines checked
    facts: Mapped[dict | None] = mapped_column(JSON)
    reopen_reason: Mapped[str] = mapped_column(String(500), default="")
    reopen_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reopen_requested_at: Mapped[datetime | None]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reopened_at: Mapped[datetime | None]
