"""The bank lines list as CSV and XLSX (formflow.tabular): what its filters show, read in keyset
chunks, each line with its match's reason or its explanation."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import tabular
from formflow.extensions import db
from formflow.reconcile import listing, matching
from formflow.reconcile.models import BankAccount, BankLine
from formflow.tabular import Column

LINE_ARGS = ("account", "status", "from", "to", "q")


def line_columns(_filters) -> list[Column]:
    return [
        Column(_("Date"), "date", width=12),
        Column(_("Bank account"), width=20),
        Column(_("Amount"), "money", width=14),
        Column(_("Counterparty"), width=24),
        Column(_("Counterparty's account"), width=20),
        Column(_("Serial number"), width=20),
        Column(_("Memo"), width=30),
        Column(_("Balance"), "money", width=14),
        Column(_("Status"), width=10),
        Column(_("Customer code"), width=14),
        Column(_("Why"), width=40),
    ]


def line_rows(filters: listing.LineFilter) -> Iterator[list]:
    names = dict(db.session.execute(sa.select(BankAccount.id, BankAccount.name)).all())
    for line, match in listing.export_rows(filters):
        why = matching.reason_text(match.reason) if match is not None else line.explanation
        yield [
            line.booked_on,
            names.get(line.bank_account_id, ""),
            line.amount,
            line.counterparty,
            line.counter_account,
            line.serial,
            line.memo,
            line.balance,
            listing.status_label(line.status),
            match.customer.code if match is not None else "",
            why,
        ]


def line_count(filters: listing.LineFilter) -> int:
    query = filters.query().with_only_columns(sa.func.count(BankLine.id)).order_by(None)
    return db.session.execute(query).scalar_one()


tabular.register(
    "bank_lines",
    filters=listing.LineFilter.from_args,
    columns=line_columns,
    rows=line_rows,
    count=line_count,
    filter_names=LINE_ARGS,
    title=lambda: _("Bank lines"),
    permission="reconcile.read",
)
