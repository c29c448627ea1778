"""A customer's entries on one account (the account page's list, every page of it) as a file:
registered in formflow.tabular as "entries" (filters `customer`, `account`); the app factory
imports this. Read as plain columns in chunks, newest first: no Entry or Journal objects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import tabular
from formflow.customers import services as customers
from formflow.customers.models import Customer
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import statements
from formflow.ledger.models import CUSTOMER_ACCOUNTS, Account, Entry, Journal, side_sign
from formflow.tabular import Column

FILTER_ARGS = ("customer", "account")


@dataclass(frozen=True)
class EntryFilter:
    customer: Customer
    account: str = "prepaid"


def entry_filters(args: Mapping[str, str], viewer=None) -> EntryFilter:
    """The account page's filters: the customer (by code) and the account kind (default prepaid)."""
    code = (args.get("customer") or "").strip()
    kind = (args.get("account") or "").strip() or "prepaid"
    if not code:
        raise Invalid([{"pointer": "/customer", "message": _("Say which customer (its code).")}])
    if kind not in CUSTOMER_ACCOUNTS:
        raise Invalid([{"pointer": "/account", "message": _("Unknown account “%(kind)s”.", kind=kind)}])
    return EntryFilter(customers.get_by_code(code), kind)


def _account(filters: EntryFilter) -> Account | None:
    return db.session.execute(
        sa.select(Account).where(Account.customer_id == filters.customer.id, Account.kind == filters.account)
    ).scalar_one_or_none()


def entry_columns(_filters: EntryFilter) -> list[Column]:
    return [
        Column(_("Date"), "datetime", width=20),
        Column(_("Kind"), width=14),
        Column(_("Memo"), width=30),
        Column(_("Case"), "int"),
        Column(_("Reference"), width=20),
        Column(_("Amount"), "money", width=14),
        Column(_("Balance"), "money", width=14),
    ]


def entry_rows(filters: EntryFilter) -> Iterator[list]:
    """The entries newest first, as the page lists them: the change as the account counts it
    (a top-up on prepaid is +), and the balance after it."""
    account = _account(filters)
    if account is None:
        return
    sign = side_sign(account.normal_side)
    labels = statements.kind_labels()
    query = (
        sa.select(
            Entry.posted_at,
            Journal.kind,
            Journal.memo,
            Journal.case_id,
            Journal.reference,
            Entry.amount,
            Entry.balance_after,
        )
        .join(Journal, Entry.journal_id == Journal.id)
        .where(Entry.account_id == account.id)
        .order_by(Entry.id.desc())
        .execution_options(yield_per=tabular.CHUNK)
    )
    for posted_at, kind, memo, case_id, reference, amount, balance_after in db.session.execute(query):
        yield [
            tabular.local(posted_at),
            labels.get(kind, kind),
            memo,
            case_id,
            reference,
            amount * sign,
            balance_after,
        ]


def entry_count(filters: EntryFilter) -> int:
    account = _account(filters)
    if account is None:
        return 0
    query = sa.select(sa.func.count()).select_from(Entry).where(Entry.account_id == account.id)
    return db.session.execute(query).scalar_one()


tabular.register(
    "entries",
    filters=entry_filters,
    columns=entry_columns,
    rows=entry_rows,
    count=entry_count,
    filter_names=FILTER_ARGS,
    title=lambda: _("Entries"),
    permission="customers.read",
)
