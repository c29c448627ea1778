"""The customer list as a file, for exactly the filters the list shows (registered in
formflow.tabular as "customers"; the app factory imports this). The columns are the ones the
import reads, so an exported file imports again."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import tabular
from formflow.customers import services
from formflow.customers.columns import COLUMNS
from formflow.customers.models import CUSTOMER_STATUSES, Customer, status_label
from formflow.extensions import db
from formflow.tabular import Column

#: the list's filters (query arguments), as the page, its export links and the CLI read them
FILTER_ARGS = ("q", "tier", "status")
WIDE = ("name", "address")


def list_filters(args: Mapping[str, str], viewer=None) -> dict:
    """The customer list's filters from its query arguments (an unknown status: no filter)."""
    status = (args.get("status") or "").strip() or None
    return {
        "text": args.get("q"),
        "tier": (args.get("tier") or "").strip() or None,
        "status": status if status in CUSTOMER_STATUSES else None,
    }


def columns(_filters: dict) -> list[Column]:
    return [Column(column.title, width=30 if column.key in WIDE else 16) for column in COLUMNS]


def rows(filters: dict) -> Iterator[list]:
    """One row per customer the filters keep, in code order (contacts read a chunk at a time)."""
    query = (
        services.filtered(**filters)
        .options(sa.orm.selectinload(Customer.contacts))
        .order_by(Customer.code)
        .execution_options(yield_per=tabular.CHUNK)
    )
    for customer in db.session.execute(query).scalars():
        contact = customer.contacts[0].snapshot() if customer.contacts else {}
        values = {
            "code": customer.code,
            "name": customer.name,
            "tier": customer.tier,
            "status": status_label(customer.status),
        } | contact
        yield [values.get(column.key, "") for column in COLUMNS]


def count(filters: dict) -> int:
    query = services.filtered(**filters).with_only_columns(Customer.id)
    return db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()


tabular.register(
    "customers",
    filters=list_filters,
    columns=columns,
    rows=rows,
    count=count,
    filter_names=FILTER_ARGS,
    title=lambda: _("Customers"),
    permission="customers.read",
)
