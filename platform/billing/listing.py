"""The invoices and payments lists: their filters read from the query arguments (one parser for
the page, its export and `formflow export-list`), their pages, and their exports (registered in
formflow.tabular as "invoices" and "payments"; the app factory imports this)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import tabular
from formflow.billing import invoices, payments
from formflow.billing.models import Invoice, Payment, PaymentAllocation
from formflow.customers.models import Customer
from formflow.extensions import db
from formflow.rules.operators import business_today
from formflow.tabular import Column

INVOICE_STATUSES = ("issued", "partially_paid", "overdue", "paid", "void")
INVOICE_ARGS = ("status", "customer")
PAYMENT_ARGS = ("method", "customer")


# --- invoices ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceList:
    filters: invoices.InvoiceFilter
    today: date


def invoice_filters(args: Mapping[str, str], viewer=None) -> InvoiceList:
    """The invoices list's filters from its query arguments (and the business day it is read on)."""
    found = invoices.InvoiceFilter(
        status=(args.get("status") or "").strip(), customer=(args.get("customer") or "").strip()
    )
    return InvoiceList(found, business_today())


def invoice_columns(_chosen: InvoiceList) -> list[Column]:
    return [
        Column(_("Invoice number"), width=16),
        Column(_("Customer code"), width=14),
        Column(_("Customer name"), width=30),
        Column(_("Issue date"), "date", width=12),
        Column(_("Due date"), "date", width=12),
        Column(_("Total"), "money", width=14),
        Column(_("Left to pay"), "money", width=14),
        Column(_("Status"), width=14),
    ]


def invoice_rows(chosen: InvoiceList) -> Iterator[list]:
    """The invoices the list shows, newest first, read in chunks."""
    query = (
        invoices.filtered(chosen.filters, chosen.today)
        .options(sa.orm.joinedload(Invoice.customer), sa.orm.lazyload(Invoice.items))
        .order_by(Invoice.id.desc())
        .execution_options(yield_per=tabular.CHUNK)
    )
    for invoice in db.session.execute(query).scalars():
        status = invoices.status_on(invoice, chosen.today)
        yield [
            invoice.number,
            invoice.customer.code,
            invoice.customer.name,
            invoice.issue_date,
            invoice.due_date,
            invoice.total,
            invoice.outstanding,
            invoices.status_label(status),
        ]


def invoice_count(chosen: InvoiceList) -> int:
    query = invoices.filtered(chosen.filters, chosen.today).with_only_columns(Invoice.id)
    return db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()


# --- payments ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentFilter:
    """What the payments list shows: a method, a customer (by code)."""

    method: str = ""
    customer: str = ""

    def apply(self, query: sa.Select) -> sa.Select:
        if self.method:
            query = query.where(Payment.method == self.method)
        if self.customer:
            query = query.where(
                Payment.customer_id.in_(sa.select(Customer.id).where(Customer.code == self.customer))
            )
        return query


def payment_filters(args: Mapping[str, str], viewer=None) -> PaymentFilter:
    return PaymentFilter(
        method=(args.get("method") or "").strip(), customer=(args.get("customer") or "").strip()
    )


def payment_page(
    filters: PaymentFilter, *, before: int | None, size: int
) -> tuple[list[Payment], int | None]:
    """A page of payments, newest first (keyset on the id); (rows, the next page's cursor)."""
    query = filters.apply(sa.select(Payment)).order_by(Payment.id.desc())
    if before is not None:
        query = query.where(Payment.id < before)
    rows = list(db.session.execute(query.limit(size + 1)).scalars())
    return rows[:size], rows[size - 1].id if len(rows) > size else None


def payment_columns(_filters: PaymentFilter) -> list[Column]:
    return [
        Column(_("Paid on"), "date", width=12),
        Column(_("Customer code"), width=14),
        Column(_("Customer name"), width=30),
        Column(_("Method"), width=14),
        Column(_("Reference"), width=24),
        Column(_("Case"), "int"),
        Column(_("Amount"), "money", width=14),
        Column(_("Invoices paid"), width=30),
        Column(_("To prepaid"), "money", width=14),
    ]


def payment_rows(filters: PaymentFilter) -> Iterator[list]:
    """The payments the list shows, newest first, read in chunks (allocations a chunk at a time)."""
    query = (
        filters.apply(sa.select(Payment))
        .options(
            sa.orm.joinedload(Payment.customer),
            sa.orm.selectinload(Payment.allocations).joinedload(PaymentAllocation.invoice),
        )
        .order_by(Payment.id.desc())
        .execution_options(yield_per=tabular.CHUNK)
    )
    for payment in db.session.execute(query).scalars():
        paid = "; ".join(
            f"{allocation.invoice.number} {allocation.amount:,.2f}" for allocation in payment.allocations
        )
        yield [
            payment.paid_on,
            payment.customer.code,
            payment.customer.name,
            payments.method_label(payment.method),
            payment.reference,
            payment.case_id,
            payment.amount,
            paid,
            payment.to_prepaid,
        ]


def payment_count(filters: PaymentFilter) -> int:
    query = filters.apply(sa.select(sa.func.count()).select_from(Payment))
    return db.session.execute(query).scalar_one()


tabular.register(
    "invoices",
    filters=invoice_filters,
    columns=invoice_columns,
    rows=invoice_rows,
    count=invoice_count,
    filter_names=INVOICE_ARGS,
    title=lambda: _("Invoices"),
    permission="billing.read",
)
tabular.register(
    "payments",
    filters=payment_filters,
    columns=payment_columns,
    rows=payment_rows,
    count=payment_count,
    filter_names=PAYMENT_ARGS,
    title=lambda: _("Payments"),
    permission="billing.read",
)
