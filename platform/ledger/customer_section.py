"""The customer page's money section: each balance and the newest entries on any of the
customer's accounts (registered in customers.page_sections; the app factory imports this)."""

from __future__ import annotations

import sqlalchemy as sa

from formflow.customers.models import Customer
from formflow.customers.page_sections import Section, section
from formflow.extensions import db
from formflow.ledger import balances
from formflow.ledger.models import CUSTOMER_ACCOUNTS, Account, Entry
from formflow.ledger.services import account_label
from formflow.ledger.statements import kind_labels

RECENT = 10


@section(10)
def money(customer: Customer) -> Section:
    recent = db.session.execute(
        sa.select(Entry)
        .join(Account, Entry.account_id == Account.id)
        .where(Account.customer_id == customer.id)
        .order_by(Entry.id.desc())
        .limit(RECENT)
    ).scalars()
    return Section(
        "ledger/_customer_section.html",
        {
            "balances": balances.balances(customer),
            "kinds": list(CUSTOMER_ACCOUNTS),
            "recent": list(recent),
            "account_label": account_label,
            "kind_labels": kind_labels(),
        },
    )
