"""Reading the ledger: a customer's balances, a system account's balance (a sum over its
entries), this month's deductions and fees, the rule context's `account`, and a customer's
entries newest first (keyset pages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from formflow.customers.models import Customer
from formflow.errors import NotFound
from formflow.extensions import db
from formflow.i18n import business_zone
from formflow.ledger.models import CUSTOMER_ACCOUNTS, Account, Entry, Journal
from formflow.money import CENT

ZERO = Decimal("0.00")
PAGE_SIZE = 50


def balances(customer: Customer) -> dict[str, Decimal]:
    """{"prepaid", "deposit", "receivable"}: each account's balance (0.00 before its first use)."""
    found = dict(
        db.session.execute(
            sa.select(Account.kind, Account.balance).where(Account.customer_id == customer.id)
        ).all()
    )
    return {kind: found.get(kind, ZERO) for kind in CUSTOMER_ACCOUNTS}


def balances_after(customer: Customer, journal: Journal) -> dict[str, Decimal]:
    """The customer's balances as they were right after `journal` (the same on every replay)."""
    last = max(entry.id for entry in journal.entries)
    found = {}
    for account in db.session.execute(sa.select(Account).where(Account.customer_id == customer.id)).scalars():
        found[account.kind] = db.session.execute(
            sa.select(Entry.balance_after)
            .where(Entry.account_id == account.id, Entry.id <= last)
            .order_by(Entry.id.desc())
            .limit(1)
        ).scalar_one_or_none()
    return {kind: found.get(kind) or ZERO for kind in CUSTOMER_ACCOUNTS}


def account_balance(account: Account) -> Decimal:
    """A balance summed over the account's entries (a system account's only balance)."""
    total = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Entry.amount), 0)).where(Entry.account_id == account.id)
    ).scalar_one()
    return _money(total) * account.sign


def month_bounds(moment: datetime | None = None) -> tuple[datetime, datetime]:
    """The business month holding `moment` (default now), as naive UTC [start, end)."""
    zone = business_zone()
    local = (moment or datetime.now(UTC)).astimezone(zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return (start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None))


def posted_this_month(customer: Customer, kind: str, moment: datetime | None = None) -> Decimal:
    """What postings of `kind` (deduction, management_fee…) took from the customer's accounts
    in the business month of `moment`, net of their reversals in that month."""
    return posted_by_kind(customer, (kind,), moment)[kind]


def posted_by_kind(customer: Customer, kinds: tuple[str, ...], moment: datetime | None = None) -> dict:
    """`posted_this_month` for each of `kinds`, in one query: a reversal counts as the kind
    of the journal it reverses."""
    start, end = month_bounds(moment)
    reversed_journal = aliased(Journal)
    counted_kind = sa.case((Journal.kind == "reversal", reversed_journal.kind), else_=Journal.kind)
    rows = db.session.execute(
        sa.select(counted_kind, sa.func.sum(Entry.amount))
        .join(Journal, Entry.journal_id == Journal.id)
        .join(Account, Entry.account_id == Account.id)
        .outerjoin(reversed_journal, Journal.reverses_id == reversed_journal.id)
        .where(
            Account.customer_id == customer.id,
            Journal.posted_at >= start,
            Journal.posted_at < end,
            counted_kind.in_(kinds),
        )
        .group_by(counted_kind)
    ).all()
    found = {kind: _money(total) for kind, total in rows}
    return {kind: found.get(kind, ZERO) for kind in kinds}


def _money(total) -> Decimal:
    """A SUM over Money entries (SQLite may hand back a plain number) as an amount."""
    return (total if isinstance(total, Decimal) else Decimal(total or 0)).quantize(CENT)


def account_context(customer: Customer | None, moment: datetime | None = None) -> dict:
    """What rules read as `account`: each balance, and this month's deductions and fees."""
    if customer is None or customer.id is None:
        return {}
    posted = posted_by_kind(customer, ("deduction", "management_fee"), moment)
    return {
        **balances(customer),
        "deducted_this_month": posted["deduction"],
        "fees_this_month": posted["management_fee"],
    }


@dataclass
class EntryPage:
    entries: list[Entry]
    next_before: int | None  # the cursor of the next (older) page


def entries(
    customer: Customer, kind: str = "prepaid", *, before: int | None = None, limit: int = PAGE_SIZE
) -> EntryPage:
    """The customer's entries on its `kind` account, newest first, `limit` a page, older than
    the entry id `before`."""
    account = db.session.execute(
        sa.select(Account).where(Account.customer_id == customer.id, Account.kind == kind)
    ).scalar_one_or_none()
    if account is None:
        if kind not in CUSTOMER_ACCOUNTS:
            raise NotFound(_("Unknown account “%(kind)s”.", kind=kind))
        return EntryPage([], None)
    query = sa.select(Entry).where(Entry.account_id == account.id)
    if before is not None:
        query = query.where(Entry.id < before)
    rows = list(db.session.execute(query.order_by(Entry.id.desc()).limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return EntryPage(rows, rows[-1].id if more and rows else None)
