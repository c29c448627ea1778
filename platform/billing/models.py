"""Fee plans, their versions, subscriptions and the charges the fee run made.

A plan's content (its items) is versioned like a process: each save is a new version, and a
charge records the version it was made with. A subscription ties a customer to a plan from a
start date (to an optional end date) on an anchor day. A charge is one item of one period of
one subscription: its unique key (subscription, item, period) is the fee run's claim, next to
the ledger's idempotency key `fee:{subscription}:{item}:{period}`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.customers.models import Customer
from formflow.extensions import db, utcnow
from formflow.money import Money

MONEY = Money()
SUBSCRIPTION_STATUSES = ("active", "suspended", "ended")
#: "skipped": a period that began while the subscription was suspended, never charged
CHARGE_STATUSES = ("pending", "posted", "short", "failed", "skipped")


class FeePlan(db.Model):
    __tablename__ = "fee_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeePlanVersion(db.Model):
    __tablename__ = "fee_plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_fee_plan_version_plan_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("fee_plan.id"), index=True)
    number: Mapped[int]
    #: {"items": [...], "short": "partial" | "receivable"} (formflow.billing.plans.PLAN_SCHEMA)
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    plan: Mapped[FeePlan] = relationship()


class Subscription(db.Model):
    __tablename__ = "fee_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("fee_plan.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    anchor_day: Mapped[int]
    #: {item id: amount as text}: what this customer pays instead of the plan's amount
    overrides: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    #: while suspended: the first day not billed (billing.subscriptions.suspend)
    suspended_from: Mapped[date | None] = mapped_column(Date)
    case_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    plan: Mapped[FeePlan] = relationship()

    def billed_until(self) -> date | None:
        """The first day no period is billed from: its end, or the day it is suspended from."""
        stops = [day for day in (self.end_date, self.suspended_from) if day is not None]
        return min(stops) if stops else None


class FeeCharge(db.Model):
    __tablename__ = "fee_charge"
    __table_args__ = (
        UniqueConstraint("subscription_id", "item", "period", name="uq_fee_charge_subscription_item_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("fee_subscription.id"), index=True)
    item: Mapped[str] = mapped_column(String(80))
    #: the period's start date ("2026-02-28"), or "signing" for an item charged once
    period: Mapped[str] = mapped_column(String(10))
    #: the period's end (excluded; None at signing): where a changed frequency's periods start
    period_end: Mapped[date | None] = mapped_column(Date)
    plan_version: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    to_receivable: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(20))
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal.id"))
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- invoices, instalments, payments ------------------------------------------------------------

#: an invoice's stored status; "overdue" is read from the due date (invoices.status_on)
INVOICE_STATUSES = ("issued", "partially_paid", "paid", "void")
INSTALMENT_STATUSES = ("proposed", "open", "partially_paid", "paid", "cancelled")
PAYMENT_METHODS = ("bank_transfer", "online", "auto_debit")


class InvoiceCounter(db.Model):
    """The last invoice number given in a year: one conditional UPDATE … RETURNING per invoice,
    so numbers are unique and without gaps under concurrency."""

    __tablename__ = "billing_invoice_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Invoice(db.Model):
    """A payment notice (缴费通知单) for what the customer owes on the receivable: its number
    (INV-2026-000042, unique per year), items, dates, what is paid, its status."""

    __tablename__ = "billing_invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    total: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(20), default="issued", index=True)
    #: the day it was paid in full (the last payment's date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    #: the customer's prepaid balance when it was issued (printed on the notice)
    prepaid_at_issue: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    void_journal_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal.id"))
    void_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    items: Mapped[list[InvoiceItem]] = relationship(order_by="InvoiceItem.position", lazy="selectin")
    instalments: Mapped[list[Instalment]] = relationship(order_by="Instalment.seq", lazy="selectin")

    @property
    def outstanding(self) -> Decimal:
        return Decimal("0.00") if self.status == "void" else self.total - self.paid


class InvoiceItem(db.Model):
    __tablename__ = "billing_invoice_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    #: the fee charge it bills (one invoice per short charge: unique)
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("fee_charge.id"), unique=True)
    period: Mapped[str] = mapped_column(String(10), default="")


class Instalment(db.Model):
    """One dated part of an invoice paid in instalments."""

    __tablename__ = "billing_instalment"
    __table_args__ = (UniqueConstraint("invoice_id", "seq", name="uq_billing_instalment_invoice_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id"), index=True)
    seq: Mapped[int]
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    paid_on: Mapped[date | None] = mapped_column(Date)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid


class Payment(db.Model):
    """Money received from a customer: posted bank → receivable (the invoices it pays) and the
    rest to prepaid, once per `key` (`case:{id}:payment`, `webhook:{event id}`)."""

    __tablename__ = "billing_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    to_prepaid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    method: Mapped[str] = mapped_column(String(20), index=True)
    reference: Mapped[str] = mapped_column(String(200), default="")
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("ledger_journal.id"))
    #: the journal that undid it (a bank match taken back); its allocations are gone then
    reversal_journal_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        order_by="PaymentAllocation.id", lazy="selectin"
    )


class PaymentAllocation(db.Model):
    """Part of a payment applied to an invoice (to one of its instalments when it has them)."""

    __tablename__ = "billing_payment_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("billing_payment.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id"), index=True)
    instalment_id: Mapped[int | None] = mapped_column(ForeignKey("billing_instalment.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    #: the due date of what it paid, and whether the payment came after it
    due_date: Mapped[date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(default=False)

    invoice: Mapped[Invoice] = relationship()


class Reminder(db.Model):
    """A payment reminder sent for an invoice or an instalment at an offset from its due date;
    the unique key (target, offset) is the claim: sent once."""

    __tablename__ = "billing_reminder"
    __table_args__ = (UniqueConstraint("target", "offset_days", name="uq_billing_reminder_target_offset"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "invoice:42" or "instalment:7"
    target: Mapped[str] = mapped_column(String(40))
    offset_days: Mapped[int]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("billing_invoice.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    escalated_to: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    customer: Mapped[Customer] = relationship()
    invoice: Mapped[Invoice] = relationship()


class WebhookDelivery(db.Model):
    """A signed payment event received on /api/v1/webhooks/payments (the delivery log); the
    event id is unique: the same event twice confirms once."""

    __tablename__ = "billing_webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    event_type: Mapped[str] = mapped_column(String(60))
    body_sha256: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("billing_payment.id"))
    #: how many times it arrived
    deliveries: Mapped[int] = mapped_column(default=1)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_received_at: Mapped[datetime] = mapped_column(default=utcnow)
