"""Payments (缴费): money received from a customer, posted once and allocated to what it pays.

A payment posts one journal: the bank is debited with the amount, the customer's receivable
credited with what is allocated to invoices, and the rest credited to prepaid — an overpayment
is never lost. Allocation is oldest due first by default, or to chosen invoices by amount;
within an invoice paid in instalments, to its instalments oldest first. Each allocation
records the due date it paid and whether the payment came after it (the late-payment record).

Once: the payment's `key` (`case:{id}:payment`, `webhook:{event id}`) is unique, and the
ledger key `payment:{key}` with it; the same key again gives the first payment back (another
amount under the same key: Conflict). The customer's open invoices are locked while allocating
(PostgreSQL), so two payments never both pay the same remainder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow import audit
from formflow.billing import invoices
from formflow.billing.models import PAYMENT_METHODS, Instalment, Invoice, Payment, PaymentAllocation
from formflow.customers.models import Customer
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.ledger.models import Journal
from formflow.ledger.services import Line, customer_account, post, system_account
from formflow.ledger.services import reverse as ledger_reverse
from formflow.money import CENT, MAX_AMOUNT

ZERO = Decimal("0.00")
METHOD_LABELS = {
    "bank_transfer": _l("Bank transfer"),
    "online": _l("Online payment"),
    "auto_debit": _l("Auto-debit"),
}


@dataclass(frozen=True)
class Chosen:
    """`amount` of a payment for the invoice numbered `invoice`."""

    invoice: str
    amount: Any


def method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


def amount_of(value: Any, pointer: str, problems: list[dict]) -> Decimal | None:
    """`value` as an amount of money (more than zero, whole cents), else a problem at `pointer`."""
    if isinstance(value, bool) or value is None or value == "":
        problems.append({"pointer": pointer, "message": _("Say how much.")})
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        problems.append({"pointer": pointer, "message": _("Not an amount of money: %(v)s", v=value)})
        return None
    if amount <= 0:
        problems.append({"pointer": pointer, "message": _("A payment is more than zero.")})
        return None
    if amount > MAX_AMOUNT or amount != amount.quantize(CENT):  # 1E+400 cannot be quantized
        problems.append({"pointer": pointer, "message": _("Not an amount of money: %(v)s", v=value)})
        return None
    return amount.quantize(CENT)


def register(
    customer: Customer,
    amount: Any,
    *,
    method: str,
    paid_on: Any,
    key: str,
    reference: str = "",
    chosen: Sequence[Chosen] | None = None,
    case_id: int | None = None,
    actor=None,
) -> Payment:
    """Post and allocate a payment (see the module's notes); Invalid with pointers, nothing
    written, when an input is wrong."""
    problems: list[dict] = []
    total = amount_of(amount, "/amount", problems)
    if method not in PAYMENT_METHODS:
        problems.append({"pointer": "/method", "message": _("Unknown payment method “%(m)s”.", m=method)})
    day = _day(paid_on, problems)
    reference = (reference or "").strip()
    if len(reference) > 200:
        problems.append({"pointer": "/reference", "message": _("The reference is too long.")})
    if problems:
        raise Invalid(problems)
    existing = _by_key(key)
    if existing is not None:
        return _replayed(existing, customer, total, method, day)
    open_ones = invoices.open_invoices(customer.id, lock=True)
    plan = _chosen(chosen, open_ones, total) if chosen else _oldest_first(open_ones, total)
    allocated = sum((part for _invoice, part in plan), ZERO)
    journal = _post(customer, total, allocated, key, method, reference, day, case_id, actor)
    if getattr(journal, "replayed", False):  # a twin of this payment committed first
        return _replayed(_by_key(key), customer, total, method, day)
    payment = Payment(
        key=key, customer_id=customer.id, amount=total, to_prepaid=total - allocated, method=method,
        reference=reference, paid_on=day, journal_id=journal.id, case_id=case_id,
        created_by_id=getattr(actor, "id", None),
    )  # fmt: skip
    db.session.add(payment)
    db.session.flush()
    for invoice, part in plan:
        _apply(payment, invoice, part)
    db.session.flush()
    audit.record(
        "payment.register", "payment", payment.id,
        after={"customer": customer.code, "amount": str(total), "method": method, "reference": reference,
               "paid_on": day.isoformat(), "journal": journal.id, "to_prepaid": str(payment.to_prepaid),
               "invoices": [[invoice.number, str(part)] for invoice, part in plan]},
        actor=actor,
    )  # fmt: skip
    return payment


def _day(value: Any, problems: list[dict]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append({"pointer": "/paid_on", "message": _("Not a date: %(value)s", value=value)})
        return None


def _by_key(key: str) -> Payment | None:
    return db.session.execute(sa.select(Payment).where(Payment.key == key)).scalar_one_or_none()


def _replayed(existing: Payment, customer: Customer, amount: Decimal, method: str, day: date) -> Payment:
    if (existing.customer_id, existing.amount, existing.method, existing.paid_on) != (
        customer.id, amount, method, day,
    ):  # fmt: skip
        raise Conflict(_("This payment was already registered with other details."))
    existing.replayed = True  # not a column: tells the caller (the webhook) it was a replay
    return existing


def _oldest_first(open_ones: list[Invoice], amount: Decimal) -> list[tuple[Invoice, Decimal]]:
    plan, left = [], amount
    for invoice in open_ones:
        if left <= 0:
            break
        part = min(left, invoice.outstanding)
        if part > 0:
            plan.append((invoice, part))
            left -= part
    return plan


def _chosen(
    chosen: Sequence[Chosen], open_ones: list[Invoice], amount: Decimal
) -> list[tuple[Invoice, Decimal]]:
    by_number = {invoice.number: invoice for invoice in open_ones}
    problems: list[dict] = []
    plan: list[tuple[Invoice, Decimal]] = []
    for index, choice in enumerate(chosen):
        at = f"/allocations/{index}"
        part = amount_of(choice.amount, f"{at}/amount", problems)
        invoice = by_number.get(str(choice.invoice or "").strip())
        if invoice is None:
            message = _("%(number)s is not an open invoice of this customer.", number=choice.invoice)
            problems.append({"pointer": f"{at}/invoice", "message": message})
            continue
        if any(invoice is taken for taken, _part in plan):
            problems.append({"pointer": f"{at}/invoice", "message": _("This invoice is named twice.")})
            continue
        if part is not None and part > invoice.outstanding:
            message = _(
                "%(number)s has %(left)s left to pay.",
                number=invoice.number,
                left=f"{invoice.outstanding:,.2f}",
            )
            problems.append({"pointer": f"{at}/amount", "message": message})
        if part is not None:
            plan.append((invoice, part))
    if not problems and sum((part for _invoice, part in plan), ZERO) > amount:
        problems.append(
            {
                "pointer": "/allocations",
                "message": _("The invoices' amounts add up to more than the payment."),
            }
        )
    if problems:
        raise Invalid(problems)
    return plan


def _post(customer, total, allocated, key, method, reference, day, case_id, actor):
    lines = [Line(system_account("bank"), total)]
    if allocated > 0:
        lines.append(Line(customer_account(customer, "receivable"), -allocated))
    if total - allocated > 0:
        lines.append(Line(customer_account(customer, "prepaid"), -(total - allocated)))
    return post(
        "payment", lines, key=f"payment:{key}", memo=method_label(method), reference=reference[:200],
        case_id=case_id, actor=actor, details={"method": method, "paid_on": day.isoformat()}, value_date=day,
    )  # fmt: skip


def _apply(payment: Payment, invoice: Invoice, part: Decimal) -> None:
    """`part` of `payment` applied to `invoice` (its instalments oldest first, when it has them)."""
    active = [i for i in invoice.instalments if i.status in ("open", "partially_paid")]
    left = part
    for instalment in active:
        if left <= 0:
            break
        share = min(left, instalment.outstanding)
        _allocate(payment, invoice, instalment, share, instalment.due_date)
        instalment.paid += share
        instalment.status = "paid" if instalment.outstanding == 0 else "partially_paid"
        instalment.paid_on = payment.paid_on if instalment.status == "paid" else None
        left -= share
    if left > 0:
        _allocate(payment, invoice, None, left, invoice.due_date)
    invoice.paid += part
    invoice.status = "paid" if invoice.outstanding == 0 else "partially_paid"
    invoice.paid_on = payment.paid_on if invoice.status == "paid" else None


def _allocate(payment: Payment, invoice: Invoice, instalment: Instalment | None, amount: Decimal, due: date):
    db.session.add(
        PaymentAllocation(
            payment_id=payment.id,
            invoice_id=invoice.id,
            instalment_id=instalment.id if instalment is not None else None,
            amount=amount,
            due_date=due,
            late=payment.paid_on > due,
        )
    )


def reverse(payment: Payment, *, key: str, memo: str = "", actor=None) -> Payment:
    """Undo `payment`: its journal reversed (dated today, naming it) and what it paid taken off
    its invoices and instalments again; once (a payment reversed already: Conflict)."""
    if payment.reversal_journal_id is not None:
        raise Conflict(_("This payment has already been reversed."))
    journal = db.session.get(Journal, payment.journal_id)
    reversal = ledger_reverse(journal, key=key, memo=memo, actor=actor)
    taken = []
    for allocation in list(payment.allocations):
        invoice = allocation.invoice
        invoice.paid -= allocation.amount
        invoice.status = "issued" if invoice.paid == 0 else "partially_paid"
        invoice.paid_on = None
        if allocation.instalment_id is not None:
            instalment = db.session.get(Instalment, allocation.instalment_id)
            instalment.paid -= allocation.amount
            instalment.status = "open" if instalment.paid == 0 else "partially_paid"
            instalment.paid_on = None
        taken.append([invoice.number, str(allocation.amount)])
        db.session.delete(allocation)
    payment.reversal_journal_id = reversal.id
    db.session.flush()
    db.session.expire(payment, ["allocations"])
    audit.record(
        "payment.reverse", "payment", payment.id,
        after={"journal": reversal.id, "invoices": taken, "memo": memo}, actor=actor,
    )  # fmt: skip
    return payment


def for_customer(customer_id: int, *, limit: int = 50) -> list[Payment]:
    return list(
        db.session.execute(
            sa.select(Payment)
            .where(Payment.customer_id == customer_id)
            .order_by(Payment.paid_on.desc(), Payment.id.desc())
            .limit(limit)
        ).scalars()
    )
