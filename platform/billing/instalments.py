"""Instalment plans: what is left of an invoice split into dated instalments, each with its own
status; payments then go to them oldest first (billing.payments).

The parts must add up to what is left exactly, with dates in order from the invoice's issue
date. A plan above the customer's tier's threshold (the global table `instalment_approval`,
column `approval_above`; no table or no row: every plan needs approval) waits for a second
person — finance or a manager other than who proposed it — to approve it; below it the plan
holds at once. A plan not approved yet may be withdrawn; then the invoice is due as before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from formflow import audit
from formflow.billing.models import Instalment, Invoice
from formflow.billing.payments import amount_of
from formflow.customers.models import Customer
from formflow.errors import Conflict, Forbidden, Invalid
from formflow.extensions import db
from formflow.tables.lookups import tier_value

APPROVAL_TABLE = "instalment_approval"
MAX_PARTS = 24
ACTIVE = ("open", "partially_paid")


def active(invoice: Invoice) -> list[Instalment]:
    """The instalments a payment goes to (approved and not paid)."""
    return [instalment for instalment in invoice.instalments if instalment.status in ACTIVE]


def pending(invoice: Invoice) -> list[Instalment]:
    return [instalment for instalment in invoice.instalments if instalment.status == "proposed"]


def approval_threshold(customer: Customer) -> Decimal | None:
    """Above this, a plan needs approval; None: every plan does."""
    value = tier_value(APPROVAL_TABLE, "approval_above", customer.tier)
    return None if value is None or isinstance(value, bool) else Decimal(str(value))


def propose(invoice: Invoice, parts: Sequence[tuple[Any, Any]], *, actor) -> list[Instalment]:
    """Split what is left of `invoice` into `parts` ((due date, amount) each); Invalid with
    pointers (/instalments/2/amount) and nothing written when they are wrong."""
    if invoice.status not in ("issued", "partially_paid"):
        raise Conflict(_("Invoice %(number)s has nothing left to pay.", number=invoice.number))
    if active(invoice) or pending(invoice):
        raise Conflict(_("Invoice %(number)s already has an instalment plan.", number=invoice.number))
    problems: list[dict] = []
    if not 2 <= len(parts) <= MAX_PARTS:
        problems.append(
            {"pointer": "/instalments", "message": _("A plan has 2 to %(n)d instalments.", n=MAX_PARTS)}
        )
    checked: list[tuple[date, Decimal]] = []
    previous = invoice.issue_date
    for index, (day_value, amount_value) in enumerate(parts):
        at = f"/instalments/{index}"
        day = _date(day_value, f"{at}/due_date", problems)
        amount = amount_of(amount_value, f"{at}/amount", problems)
        if day is not None and day < previous:
            message = _("Each due date comes after the one before (and not before the invoice's issue date).")
            problems.append({"pointer": f"{at}/due_date", "message": message})
        if day is not None:
            previous = day
        if day is not None and amount is not None:
            checked.append((day, amount))
    if not problems:
        total = sum((amount for _day, amount in checked), Decimal("0"))
        if total != invoice.outstanding:
            message = _(
                "The instalments add up to %(total)s; %(left)s is left to pay on the invoice.",
                total=f"{total:,.2f}",
                left=f"{invoice.outstanding:,.2f}",
            )
            problems.append({"pointer": "/instalments", "message": message})
    if problems:
        raise Invalid(problems)
    customer = db.session.get(Customer, invoice.customer_id)
    threshold = approval_threshold(customer)
    status = "open" if threshold is not None and invoice.outstanding <= threshold else "proposed"
    start = max((instalment.seq for instalment in invoice.instalments), default=0)
    created = [
        Instalment(
            invoice_id=invoice.id,
            seq=start + index + 1,
            due_date=day,
            amount=amount,
            paid=Decimal("0"),
            status=status,
            proposed_by_id=getattr(actor, "id", None),
        )
        for index, (day, amount) in enumerate(checked)
    ]
    db.session.add_all(created)
    db.session.flush()
    db.session.refresh(invoice, ["instalments"])
    audit.record(
        "invoice.instalments.propose", "invoice", invoice.id,
        after={"status": status, "instalments": [[day.isoformat(), str(amount)] for day, amount in checked]},
        actor=actor,
    )  # fmt: skip
    return created


def approve(invoice: Invoice, *, actor) -> list[Instalment]:
    """The proposed plan holds: approved by someone other than who proposed it."""
    proposed = pending(invoice)
    if not proposed:
        raise Conflict(_("Invoice %(number)s has no plan waiting for approval.", number=invoice.number))
    if any(instalment.proposed_by_id == actor.id for instalment in proposed):
        raise Forbidden(_("Someone other than who proposed the plan approves it."))
    for instalment in proposed:
        instalment.status, instalment.approved_by_id = "open", actor.id
    db.session.flush()
    audit.record("invoice.instalments.approve", "invoice", invoice.id, after={"status": "open"}, actor=actor)
    return proposed


def withdraw(invoice: Invoice, *, actor) -> None:
    """A plan not approved yet is withdrawn (its instalments cancelled, kept for the record)."""
    proposed = pending(invoice)
    if not proposed:
        raise Conflict(_("Invoice %(number)s has no plan waiting for approval.", number=invoice.number))
    for instalment in proposed:
        instalment.status = "cancelled"
    db.session.flush()
    audit.record(
        "invoice.instalments.withdraw", "invoice", invoice.id, after={"status": "cancelled"}, actor=actor
    )


def _date(value: Any, pointer: str, problems: list[dict]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        problems.append({"pointer": pointer, "message": _("Not a date: %(value)s", value=value)})
        return None
