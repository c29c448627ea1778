"""Invoices (缴费通知单; not the tax 发票): what a customer owes on the receivable, with a number
unique per year, items, an issue and a due date, and a status.

Numbers: `INV-{year}-{n:06d}`, n from a per-year counter taken by one conditional
UPDATE … RETURNING (after an INSERT … ON CONFLICT DO NOTHING of the year's row), so two nodes
issuing at once never give one number twice, and a rolled-back invoice gives its number back.

Status: issued → partially_paid → paid as payments are allocated (billing.payments); "void" by a
reversal of its receivable (never a delete). "Overdue" is not stored: an invoice not paid after
its due date is overdue (`status_on`), so no job has to flip it and no day is missed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from formflow import audit
from formflow.billing.models import Instalment, Invoice, InvoiceCounter, InvoiceItem
from formflow.customers.models import Customer
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db
from formflow.ledger.services import Line, customer_account, post, system_account

#: days from issue to due when a plan says nothing
DEFAULT_DUE_DAYS = 15
OPEN = ("issued", "partially_paid")
STATUS_LABELS = {
    "issued": _l("Issued"),
    "partially_paid": _l("Partially paid"),
    "paid": _l("Paid"),
    "overdue": _l("Overdue"),
    "void": _l("Void"),
    "proposed": _l("Awaiting approval"),
    "open": _l("Open"),
    "cancelled": _l("Cancelled"),
}


@dataclass(frozen=True)
class Item:
    title: str
    amount: Decimal
    charge_id: int | None = None
    period: str = ""


def next_number(year: int) -> str:
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(InvoiceCounter.__table__).values(year=year, last=0).on_conflict_do_nothing()
    )
    counter = InvoiceCounter.__table__
    last = connection.execute(
        sa.update(counter)
        .where(counter.c.year == year)
        .values(last=counter.c.last + 1)
        .returning(counter.c.last)
    ).scalar_one()
    return f"INV-{year}-{last:06d}"


def issue(
    customer: Customer,
    items: Sequence[Item],
    *,
    issue_date: date,
    due_days: int = DEFAULT_DUE_DAYS,
    actor=None,
) -> Invoice:
    """An invoice of `items` (already on the customer's receivable), due `due_days` after
    `issue_date`."""
    if not items or any(item.amount <= 0 for item in items):
        raise Invalid([{"pointer": "/items", "message": _("An invoice has items of more than zero.")}])
    prepaid = customer_account(customer, "prepaid")
    invoice = Invoice(
        number=next_number(issue_date.year),
        customer_id=customer.id,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=due_days),
        total=sum((item.amount for item in items), Decimal("0")),
        paid=Decimal("0"),
        status="issued",
        prepaid_at_issue=prepaid.balance or Decimal("0"),
    )
    db.session.add(invoice)
    db.session.flush()
    db.session.add_all(
        InvoiceItem(
            invoice_id=invoice.id,
            position=index,
            title=item.title[:300],
            amount=item.amount,
            charge_id=item.charge_id,
            period=item.period,
        )
        for index, item in enumerate(items)
    )
    db.session.flush()
    audit.record(
        "invoice.issue", "invoice", invoice.id,
        after={"number": invoice.number, "customer": customer.code, "total": str(invoice.total),
               "due": invoice.due_date.isoformat()},
        actor=actor,
    )  # fmt: skip
    return invoice


def status_on(invoice: Invoice, today: date) -> str:
    """The status as people read it: an open invoice past its due date is overdue (one paid in
    instalments: when one of them is)."""
    if invoice.status not in OPEN:
        return invoice.status
    parts = [i for i in invoice.instalments if i.status in ("open", "partially_paid", "paid")]
    if parts:
        late = any(instalment_status_on(i, today) == "overdue" for i in parts)
    else:
        late = invoice.due_date < today
    return "overdue" if late else invoice.status


def instalment_status_on(instalment: Instalment, today: date) -> str:
    if instalment.status in ("open", "partially_paid") and instalment.due_date < today:
        return "overdue"
    return instalment.status


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def by_number(number: str) -> Invoice:
    found = db.session.execute(sa.select(Invoice).where(Invoice.number == number)).scalar_one_or_none()
    if found is None:
        raise NotFound(_("No invoice %(number)s.", number=number))
    return found


def open_invoices(customer_id: int, *, lock: bool = False) -> list[Invoice]:
    """The customer's invoices with something left to pay, oldest due first (locked on
    PostgreSQL when `lock`: a payment allocating to them)."""
    query = (
        sa.select(Invoice)
        .where(Invoice.customer_id == customer_id, Invoice.status.in_(OPEN))
        .order_by(Invoice.due_date, Invoice.id)
    )
    if lock:  # a payment allocating: its items are not read (they load if asked for)
        query = query.options(sa.orm.lazyload(Invoice.items))
    if lock and db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Invoice).execution_options(populate_existing=True)
    return list(db.session.execute(query).scalars())


def void(invoice: Invoice, reason: str, *, actor=None) -> Invoice:
    """Void an unpaid invoice: its receivable reversed by a journal naming it (revenue given
    back), once."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid([{"pointer": "/reason", "message": _("Say why the invoice is void.")}])
    if invoice.status == "void":
        raise Conflict(_("Invoice %(number)s is already void.", number=invoice.number))
    if invoice.paid > 0:
        raise Conflict(_("Invoice %(number)s is partly paid: it cannot be void.", number=invoice.number))
    customer = db.session.get(Customer, invoice.customer_id)
    journal = post(
        "adjustment",
        [
            Line(system_account("revenue_management_fee"), invoice.total),
            Line(customer_account(customer, "receivable"), -invoice.total),
        ],
        key=f"invoice:{invoice.id}:void",
        memo=_("Invoice %(number)s void: %(reason)s", number=invoice.number, reason=reason)[:500],
        reference=invoice.number,
        actor=actor,
        details={"invoice": invoice.number},
    )
    for instalment in invoice.instalments:
        if instalment.status != "paid":
            instalment.status = "cancelled"
    invoice.status, invoice.void_journal_id, invoice.void_reason = "void", journal.id, reason[:500]
    db.session.flush()
    audit.record(
        "invoice.void", "invoice", invoice.id, before={"status": "issued"},
        after={"status": "void", "reason": reason, "journal": journal.id}, actor=actor,
    )  # fmt: skip
    return invoice


def for_customer(customer_id: int, *, limit: int = 50) -> list[Invoice]:
    return list(
        db.session.execute(
            sa.select(Invoice)
            .where(Invoice.customer_id == customer_id)
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
            .limit(limit)
        ).scalars()
    )


@dataclass(frozen=True)
class InvoiceFilter:
    """What the invoices list shows: a status as people read it ("overdue" too), a customer."""

    status: str = ""
    customer: str = ""


def page(
    filters: InvoiceFilter, today: date, *, before: int | None, size: int
) -> tuple[list[Invoice], int | None]:
    """A page of invoices, newest first (keyset on the id); (rows, the next page's cursor)."""
    query = filtered(filters, today).order_by(Invoice.id.desc())
    if before is not None:
        query = query.where(Invoice.id < before)
    rows = list(db.session.execute(query.limit(size + 1)).scalars())
    return rows[:size], rows[size - 1].id if len(rows) > size else None


def filtered(filters: InvoiceFilter, today: date) -> sa.Select:
    """The invoices the list shows for `filters` on `today` (unordered: the page and the export
    each order it)."""
    query = sa.select(Invoice)
    if filters.customer:
        query = query.join(Customer, Customer.id == Invoice.customer_id).where(
            Customer.code == filters.customer
        )
    if filters.status == "overdue":
        query = query.where(Invoice.status.in_(OPEN), Invoice.due_date < today)
    elif filters.status in ("issued", "partially_paid"):
        query = query.where(Invoice.status == filters.status, Invoice.due_date >= today)
    elif filters.status:
        query = query.where(Invoice.status == filters.status)
    return query
