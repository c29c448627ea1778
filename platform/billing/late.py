"""A customer's late-payment record: the payments that came after their due date, the
consecutive late periods, and what is open on the receivable and for how long — the facts the
offboarding screening reads (cases/screening.py).

A period is a fee period of the customer's subscriptions (the signing items are not periods).
It is on time when its fee was taken from prepaid, or when its invoice was paid by its due date
(every instalment by its own); late when a payment came after a due date or the invoice is
overdue and open; not counted yet while its invoice is open and not due, nor when void.
`consecutive_late_periods` counts back from the newest period that is decided, up to the first
one on time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from formflow.billing import invoices
from formflow.billing.models import FeeCharge, Invoice, InvoiceItem, Payment, PaymentAllocation, Subscription
from formflow.extensions import db

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LatePayment:
    invoice: str
    due_date: date
    paid_on: date
    amount: Decimal

    @property
    def days_late(self) -> int:
        return (self.paid_on - self.due_date).days


@dataclass
class LateRecord:
    late_payments: list[LatePayment] = field(default_factory=list)
    #: (period, "late" | "on_time"), newest first
    periods: list[tuple[str, str]] = field(default_factory=list)
    consecutive_late_periods: int = 0
    open_receivable: Decimal = ZERO
    #: days since the oldest open invoice's due date (0: nothing overdue)
    receivable_age_days: int = 0

    def facts(self) -> dict:
        return {
            "consecutive_late_payments": self.consecutive_late_periods,
            "late_payments": len(self.late_payments),
            "open_receivable": self.open_receivable,
            "receivable_age_days": self.receivable_age_days,
        }


def late_record(customer_id: int, today: date) -> LateRecord:
    record = LateRecord()
    rows = db.session.execute(
        sa.select(Invoice.number, PaymentAllocation.due_date, Payment.paid_on, PaymentAllocation.amount)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Invoice.customer_id == customer_id, PaymentAllocation.late.is_(True))
        .order_by(Payment.paid_on.desc(), PaymentAllocation.id.desc())
    )
    record.late_payments = [LatePayment(*row) for row in rows]
    late_invoices = {payment.invoice for payment in record.late_payments}
    open_ones = invoices.open_invoices(customer_id)
    record.open_receivable = sum((invoice.outstanding for invoice in open_ones), ZERO)
    overdue = [invoice for invoice in open_ones if invoices.status_on(invoice, today) == "overdue"]
    if overdue:
        oldest = min(_first_due_unpaid(invoice) for invoice in overdue)
        record.receivable_age_days = max(0, (today - oldest).days)
    verdicts: dict[str, set[str]] = defaultdict(set)
    charges = db.session.execute(
        sa.select(FeeCharge.period, FeeCharge.status, Invoice)
        .join(Subscription, Subscription.id == FeeCharge.subscription_id)
        .outerjoin(InvoiceItem, InvoiceItem.charge_id == FeeCharge.id)
        .outerjoin(Invoice, Invoice.id == InvoiceItem.invoice_id)
        .where(Subscription.customer_id == customer_id, FeeCharge.period != "signing")
    )
    for period, status, invoice in charges:
        verdict = _verdict(status, invoice, late_invoices, today)
        if verdict is not None:
            verdicts[period].add(verdict)
    record.periods = [
        (period, "late" if "late" in found else "on_time")
        for period, found in sorted(verdicts.items(), reverse=True)
    ]
    for _period, verdict in record.periods:
        if verdict != "late":
            break
        record.consecutive_late_periods += 1
    return record


def _first_due_unpaid(invoice: Invoice) -> date:
    parts = [i for i in invoice.instalments if i.status in ("open", "partially_paid")]
    return min(i.due_date for i in parts) if parts else invoice.due_date


def _verdict(status: str, invoice: Invoice | None, late_invoices: set[str], today: date) -> str | None:
    if status == "posted":
        return "on_time"
    if status != "short" or invoice is None or invoice.status == "void":
        return None
    if invoice.number in late_invoices or invoices.status_on(invoice, today) == "overdue":
        return "late"
    if invoice.status == "paid":
        return "on_time"
    return None  # open and not due yet
