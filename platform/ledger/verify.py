"""`formflow ledger verify`: the ledger adds up. Every journal sums to zero; every customer
account's balance is the sum of its entries; each entry's `balance_after` follows from the
one before; every journal has its audit entry. The first problem is named."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from formflow.audit.models import AuditEntry
from formflow.extensions import db
from formflow.ledger.models import Account, Entry, Journal, side_sign

ZERO = Decimal("0.00")


@dataclass
class LedgerCheck:
    ok: bool
    journals: int = 0
    accounts: int = 0
    problem: str = ""


def verify() -> LedgerCheck:
    journals = db.session.execute(sa.select(sa.func.count(Journal.id))).scalar_one()
    accounts = db.session.execute(sa.select(sa.func.count(Account.id))).scalar_one()
    problem = _unbalanced_journal() or _account_problem() or _unaudited_journal()
    return LedgerCheck(not problem, journals, accounts, problem)


def _unbalanced_journal() -> str:
    total = sa.func.sum(Entry.amount)
    row = db.session.execute(
        sa.select(Entry.journal_id, total)
        .group_by(Entry.journal_id)
        .having(total != 0)
        .order_by(Entry.journal_id)
    ).first()
    if row is not None:
        return f"journal {row[0]}: its entries sum to {row[1]}, not 0"
    empty = db.session.execute(
        sa.select(Journal.id).where(~sa.exists().where(Entry.journal_id == Journal.id)).order_by(Journal.id)
    ).first()
    return f"journal {empty[0]}: it has no entries" if empty is not None else ""


def _account_problem() -> str:
    """Walks each customer account's entries in order (one account's rows at a time)."""
    customer_accounts = db.session.execute(  # columns, not objects: what the database holds now
        sa.select(Account.id, Account.code, Account.normal_side, Account.balance)
        .where(Account.customer_id.is_not(None))
        .order_by(Account.id)
    ).all()
    for account in customer_accounts:
        sign = side_sign(account.normal_side)
        running = ZERO
        entries = db.session.execute(
            sa.select(Entry.id, Entry.amount, Entry.balance_after)
            .where(Entry.account_id == account.id)
            .order_by(Entry.id)
        )
        for entry_id, amount, balance_after in entries:
            running += amount * sign
            if balance_after != running:
                return (
                    f"entry {entry_id} of account {account.code}: balance_after {balance_after}, "
                    f"but its entries sum to {running}"
                )
        if (account.balance or ZERO) != running:
            return f"account {account.code}: balance {account.balance}, but its entries sum to {running}"
    return ""


def _unaudited_journal() -> str:
    audited = sa.select(AuditEntry.id).where(
        AuditEntry.action == "ledger.post",
        AuditEntry.object_type == "journal",
        AuditEntry.object_id == sa.cast(Journal.id, sa.String),
    )
    row = db.session.execute(sa.select(Journal.id).where(~audited.exists()).order_by(Journal.id)).first()
    return f"journal {row[0]}: it has no audit entry" if row is not None else ""
