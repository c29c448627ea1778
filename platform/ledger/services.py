"""Posting to the ledger: the one door (`post`), the customer postings built on it, reversals
and balances.

`post` is idempotent and race-free, in the caller's transaction (a workflow transition, a
request), which commits or rolls back the rest:
- each customer account's balance moves first, by one conditional `UPDATE … RETURNING` that
  refuses to take a prepaid or deposit balance below zero (Invalid, 422, with the shortfall);
  the accounts are taken in the order of their ids, so two journals never deadlock;
- then the journal goes in with `INSERT … ON CONFLICT DO NOTHING`: its idempotency key is
  unique, so when the key is taken (a replay, or a concurrent twin that committed first) nothing
  is inserted, the moves are given back (their rows are still locked by this transaction), and
  the first journal is returned when the content is the same, else a Conflict (409);
- a refused posting leaves nothing of itself, without a savepoint: nothing is written before the
  last balance has moved, and the moves before a refusal are given back;
- a posting is a handful of statements (on PostgreSQL: the accounts, one UPDATE per customer
  account, the journal with its entries, the audit entry's two), its audit entry the last, as
  the head of the audit chain it takes stays locked until the transaction ends (concurrent
  postings take other chains: no row every posting waits for)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from formflow.audit import services as audit
from formflow.customers.models import Customer
from formflow.errors import Conflict, Invalid
from formflow.extensions import db, utcnow
from formflow.ledger import alerts, periods
from formflow.ledger.models import (
    CUSTOMER_ACCOUNTS,
    JOURNAL_KINDS,
    MAY_GO_NEGATIVE,
    SYSTEM_ACCOUNTS,
    Account,
    Entry,
    Journal,
)
from formflow.money import CENT, MAX_AMOUNT

MAX_KEY = 255
#: post_for_customer's tries when the prepaid balance moves between its reading and the posting
SPLIT_ATTEMPTS = 3
ZERO = Decimal("0.00")

JOURNAL, ENTRY, ACCOUNT = Journal.__table__, Entry.__table__, Account.__table__
_DELTA = sa.bindparam("delta", type_=ACCOUNT.c.balance.type)
#: the race-free move of a customer balance, refused (no row) when it would go below zero; it
#: reads what the low-balance check needs in the same round trip
_MOVE_BALANCE = (
    sa.update(ACCOUNT)
    .where(
        ACCOUNT.c.id == sa.bindparam("account"),
        sa.or_(ACCOUNT.c.allow_negative, ACCOUNT.c.balance + _DELTA >= 0),
    )
    .values(balance=ACCOUNT.c.balance + _DELTA)
    .returning(ACCOUNT.c.balance, *alerts.FACT_COLUMNS)
)
_GIVE_BACK = (
    sa.update(ACCOUNT)
    .where(ACCOUNT.c.id == sa.bindparam("account"))
    .values(balance=ACCOUNT.c.balance - _DELTA)
)
#: SQLite: INSERT … ON CONFLICT DO NOTHING RETURNING id: no row when the key (or the reversed
#: journal) is taken
_INSERT_JOURNAL = sqlite.insert(JOURNAL).on_conflict_do_nothing().returning(JOURNAL.c.id)
_INSERT_ENTRIES = sa.insert(ENTRY)
_JOURNAL_FIELDS = (
    "idempotency_key",
    "content_hash",
    "kind",
    "memo",
    "reference",
    "case_id",
    "reverses_id",
    "posted_at",
    "value_date",
    "posted_by_id",
    "details",
)

#: a customer posting of each kind: (debited account, credited account); a customer account
#: is named by its kind, a system account as "system:<kind>"
CUSTOMER_POSTINGS = {
    "top_up": ("system:bank", "prepaid"),
    "usage": ("prepaid", "system:revenue_usage"),
    "deduction": ("prepaid", "system:revenue_deduction"),
    "management_fee": ("prepaid", "system:revenue_management_fee"),
    "refund": ("prepaid", "system:refunds"),
}


@dataclass(frozen=True)
class Line:
    """`amount` on `account`: a debit positive, a credit negative."""

    account: Account
    amount: Decimal


class Shortfall(Invalid):
    """A posting would take a customer account below zero."""

    def __init__(self, account: Account, balance: Decimal, needed: Decimal, pointer: str = "/amount"):
        self.account, self.balance, self.needed = account, balance, needed
        self.shortfall = needed - balance
        super().__init__(
            [
                {
                    "pointer": pointer,
                    "message": _(
                        "The %(account)s balance is %(balance)s, %(shortfall)s short of %(amount)s.",
                        account=_account_word(account.kind),
                        balance=f"{balance:,.2f}",
                        shortfall=f"{self.shortfall:,.2f}",
                        amount=f"{needed:,.2f}",
                    ),
                }
            ]
        )


def account_label(kind: str) -> str:
    """An account kind as a page names it ("Prepaid", 预存), in the user's language."""
    labels = {
        "prepaid": _("Prepaid"),
        "deposit": _("Deposit"),
        "receivable": _("Receivable"),
        "bank": _("Bank"),
        "revenue_management_fee": _("Management fee revenue"),
        "revenue_deduction": _("Deduction revenue"),
        "revenue_usage": _("Usage revenue"),
        "refunds": _("Refunds owed"),
        "write_offs": _("Written off"),
        "bank_charges": _("Bank charges"),
    }
    return labels.get(kind, kind)


def _account_word(kind: str) -> str:
    """An account kind inside a sentence ("The prepaid balance is …")."""
    words = {"prepaid": _("prepaid"), "deposit": _("deposit"), "receivable": _("receivable")}
    return words.get(kind, account_label(kind))


# --- accounts ---------------------------------------------------------------------------------


def customer_account(customer: Customer, kind: str) -> Account:
    """The customer's account of `kind` (prepaid, deposit, receivable), opened when first used."""
    if kind not in CUSTOMER_ACCOUNTS:
        raise Invalid([{"pointer": "/account", "message": _("Unknown account “%(kind)s”.", kind=kind)}])
    found = db.session.execute(
        sa.select(Account).where(Account.customer_id == customer.id, Account.kind == kind)
    ).scalar_one_or_none()
    if found is not None:
        return found
    return _open(
        Account(
            code=f"customer:{customer.code}:{kind}",
            kind=kind,
            customer_id=customer.id,
            normal_side=CUSTOMER_ACCOUNTS[kind],
            allow_negative=kind in MAY_GO_NEGATIVE,
            balance=ZERO,
        )
    )


def system_account(kind: str) -> Account:
    """The system's account of `kind` (bank, revenue by kind, refunds)."""
    if kind not in SYSTEM_ACCOUNTS:
        raise Invalid([{"pointer": "/account", "message": _("Unknown account “%(kind)s”.", kind=kind)}])
    code = f"system:{kind}"
    found = db.session.execute(sa.select(Account).where(Account.code == code)).scalar_one_or_none()
    if found is not None:
        return found
    return _open(Account(code=code, kind=kind, normal_side=SYSTEM_ACCOUNTS[kind], allow_negative=True))


def _open(account: Account) -> Account:
    """Insert `account`; when a concurrent request opened it first, that one."""
    try:
        with db.session.begin_nested():
            db.session.add(account)
    except IntegrityError:
        return db.session.execute(sa.select(Account).where(Account.code == account.code)).scalar_one()
    return account


def account_named(customer: Customer | None, name: str) -> Account:
    """A customer account by kind ("prepaid") or a system account ("system:bank")."""
    if name.startswith("system:"):
        return system_account(name.removeprefix("system:"))
    if customer is None:
        raise Invalid([{"pointer": "/customer", "message": _("A customer account needs a customer.")}])
    return customer_account(customer, name)


# --- posting ----------------------------------------------------------------------------------


def post(
    kind: str,
    lines: Sequence[Line],
    *,
    key: str,
    memo: str = "",
    reference: str = "",
    case_id: int | None = None,
    actor: Any = None,
    details: dict | None = None,
    reverses: Journal | None = None,
    value_date: date | None = None,
) -> Journal:
    """Post one journal of `lines` (summing to zero), once per `key` (see the module's notes),
    counted on `value_date` (default today), which must not lie in a closed period."""
    _check(kind, lines, key, memo, reference)
    value_date = value_date or periods.today()
    content_hash = _content_hash(kind, lines, memo, reference, case_id, reverses)
    try:
        periods.refuse_if_closed(value_date)
    except Invalid:  # unless it is a replay: the posting made before the close counts
        existing = _by_key(key)
        if existing is None:
            raise
        return _replayed(existing, content_hash)
    row = {
        "idempotency_key": key,
        "content_hash": content_hash,
        "kind": kind,
        "memo": memo or "",
        "reference": reference or "",
        "case_id": case_id,
        "reverses_id": reverses.id if reverses is not None else None,
        "posted_at": utcnow(),
        "value_date": value_date,
        "posted_by_id": getattr(actor, "id", None),
        "details": details,
    }
    connection = db.session.connection()
    try:
        moves = _move_balances(connection, lines, key)
    except _KeyTaken as taken:  # refused, but the key is taken: the first posting counts
        return _replayed(taken.journal, row["content_hash"])
    balances = {move.account.id: move.after for move in moves}
    journal_id = _insert_journal(connection, row, lines, balances)
    if journal_id is None:  # the key (or the reversed journal) is taken: give the moves back
        _undo(connection, moves)
        existing = _by_key(key)
        if existing is None:
            raise Conflict(_("This posting has already been reversed."))
        return _replayed(existing, row["content_hash"])
    journal = _persistent(Journal(id=journal_id, **row))
    journal.posted_lines = tuple(lines)  # not a column: what was posted, without reading the entries back
    for move in moves:
        set_committed_value(move.account, "balance", move.after)
        alerts.after_move(move.account, move.before, move.after, journal, move.facts)
    # last: the audit chain's head stays locked until the transaction ends (see audit.record)
    audit.record(
        "ledger.post",
        "journal",
        journal_id,
        after={
            "key": key,
            "kind": kind,
            "lines": [[line.account.code, str(line.amount)] for line in lines],
            "case": case_id,
            "reverses": row["reverses_id"],
        },
        actor=actor,
    )
    return journal


def _check(kind: str, lines: Sequence[Line], key: str, memo: str, reference: str) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        raise Invalid(
            [
                {
                    "pointer": "/key",
                    "message": _("The idempotency key must be 1 to %(n)d characters.", n=MAX_KEY),
                }
            ]
        )
    if kind not in JOURNAL_KINDS:
        raise Invalid([{"pointer": "/kind", "message": _("Unknown posting kind “%(kind)s”.", kind=kind)}])
    if len(memo or "") > 500 or len(reference or "") > 200:
        raise Invalid([{"pointer": "/memo", "message": _("The memo or reference is too long.")}])
    if len(lines) < 2:
        raise Invalid([{"pointer": "/lines", "message": _("A posting has at least two lines.")}])
    accounts = [line.account.id for line in lines]
    if len(set(accounts)) != len(accounts):
        raise Invalid([{"pointer": "/lines", "message": _("An account appears twice in one posting.")}])
    for index, line in enumerate(lines):
        amount = line.amount
        if (
            not isinstance(amount, Decimal)
            or not amount.is_finite()
            or amount == 0
            or abs(amount) > MAX_AMOUNT
            or amount != amount.quantize(CENT)
        ):
            raise Invalid(
                [
                    {
                        "pointer": f"/lines/{index}/amount",
                        "message": _("Not an amount of money: %(v)s", v=amount),
                    }
                ]
            )
    if sum(line.amount for line in lines) != 0:
        raise Invalid([{"pointer": "/lines", "message": _("The lines of a posting must sum to zero.")}])


def _content_hash(kind, lines, memo, reference, case_id, reverses) -> str:
    content = {
        "kind": kind,
        "lines": [[line.account.code, str(line.amount.quantize(CENT))] for line in lines],
        "memo": memo or "",
        "reference": reference or "",
        "case": case_id,
        "reverses": reverses.id if reverses is not None else None,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _by_key(key: str) -> Journal | None:
    return db.session.execute(sa.select(Journal).where(Journal.idempotency_key == key)).scalar_one_or_none()


def _replayed(journal: Journal, content_hash: str) -> Journal:
    if journal.content_hash != content_hash:
        raise Conflict(_("This idempotency key was already used for another posting."))
    journal.replayed = True  # not a column: tells the caller (the API) this was a replay
    return journal


def _persistent(journal: Journal) -> Journal:
    """The journal written with Core, taken by the session as persistent (its entries load when
    read). A rolled-back journal of the same id (SQLite reuses ids) leaves the session first."""
    stale = db.session.identity_map.get(identity_key(Journal, journal.id))
    if stale is not None:
        db.session.expunge(stale)
    make_transient_to_detached(journal)
    db.session.add(journal)
    return journal


@dataclass(frozen=True)
class _Move:
    account: Account
    delta: Decimal  # on the balance as people read it
    before: Decimal
    after: Decimal
    facts: alerts.ThresholdFacts


class _KeyTaken(Exception):
    def __init__(self, journal: Journal):
        self.journal = journal


def _move_balances(connection: sa.Connection, lines: Sequence[Line], key: str) -> list[_Move]:
    """Move each customer account's balance, in the order of account ids. A refusal gives back
    the moves made before it and raises Shortfall, or _KeyTaken when `key` is taken (a replay,
    or a twin of this posting that committed while this one waited for the account's row)."""
    moves: list[_Move] = []
    for line in sorted(lines, key=lambda line: line.account.id):
        account = line.account
        if account.customer_id is None:
            continue
        delta = line.amount * account.sign
        moved = connection.execute(_MOVE_BALANCE, {"account": account.id, "delta": delta}).first()
        if moved is None:
            _undo(connection, moves)
            existing = _by_key(key)
            if existing is not None:
                raise _KeyTaken(existing)
            current = connection.execute(
                sa.select(ACCOUNT.c.balance).where(ACCOUNT.c.id == account.id)
            ).scalar_one()
            raise Shortfall(account, current, -delta)
        balance, *facts = moved
        moves.append(_Move(account, delta, balance - delta, balance, alerts.ThresholdFacts(*facts)))
    return moves


def _undo(connection: sa.Connection, moves: Sequence[_Move]) -> None:
    """Give back `moves` (their rows are locked by this transaction since: exact)."""
    for move in moves:
        connection.execute(_GIVE_BACK, {"account": move.account.id, "delta": move.delta})


def _insert_journal(
    connection: sa.Connection, row: dict, lines: Sequence[Line], balances: dict[int, Decimal]
) -> int | None:
    """Insert the journal and its entries; None (nothing written) when its key or the journal
    it reverses is taken. One statement on PostgreSQL."""
    if connection.dialect.name == "postgresql":
        arrays = {
            "account_ids": [line.account.id for line in lines],
            "amounts": [line.amount for line in lines],
            "balances_after": [balances.get(line.account.id) for line in lines],
        }
        return connection.execute(_JOURNAL_WITH_ENTRIES, row | arrays).scalar()
    journal_id = connection.execute(_INSERT_JOURNAL, row).scalar()
    if journal_id is not None:
        connection.execute(
            _INSERT_ENTRIES,
            [
                {
                    "journal_id": journal_id,
                    "account_id": line.account.id,
                    "amount": line.amount,
                    "balance_after": balances.get(line.account.id),
                    "posted_at": row["posted_at"],
                }
                for line in lines
            ],
        )
    return journal_id


#: PostgreSQL: the journal (ON CONFLICT DO NOTHING) and its entries (the lines as arrays, in
#: their order) in one statement, RETURNING the journal's id once per entry (no row: nothing
#: written). Text: SQLAlchemy does not cache a statement built with VALUES.
_JOURNAL_WITH_ENTRIES = sa.text(
    f"""
    WITH journal AS (
        INSERT INTO ledger_journal ({", ".join(_JOURNAL_FIELDS)})
        VALUES ({", ".join(f":{field}" for field in _JOURNAL_FIELDS)})
        ON CONFLICT DO NOTHING
        RETURNING id, posted_at
    )
    INSERT INTO ledger_entry (journal_id, account_id, amount, balance_after, posted_at)
    SELECT journal.id, line.account_id, line.amount, line.balance_after, journal.posted_at
    FROM journal CROSS JOIN unnest(
        CAST(:account_ids AS INTEGER[]),
        CAST(:amounts AS NUMERIC(18, 2)[]),
        CAST(:balances_after AS NUMERIC(18, 2)[])
    ) WITH ORDINALITY AS line (account_id, amount, balance_after, position)
    ORDER BY line.position
    RETURNING journal_id
    """
).bindparams(sa.bindparam("details", type_=JOURNAL.c.details.type))


#: a customer's accounts of some kinds and system accounts by code, in one statement
_ACCOUNTS_NAMED = sa.select(Account).where(
    sa.or_(
        sa.and_(
            Account.customer_id == sa.bindparam("customer"),
            Account.kind.in_(sa.bindparam("kinds", expanding=True)),
        ),
        Account.code.in_(sa.bindparam("codes", expanding=True)),
    )
)


def _accounts_named(customer: Customer, names: Sequence[str]) -> list[Account]:
    """`account_named` for each of `names`, those already open read in one statement."""
    identity = sa.inspect(customer).identity  # its id without reading the row again after a commit
    found = {
        account.code if account.customer_id is None else account.kind: account
        for account in db.session.execute(
            _ACCOUNTS_NAMED,
            {
                "customer": identity[0] if identity else customer.id,
                "kinds": [name for name in names if not name.startswith("system:")],
                "codes": [name for name in names if name.startswith("system:")],
            },
        ).scalars()
    }
    return [found.get(name) or account_named(customer, name) for name in names]


def post_for_customer(
    customer: Customer,
    kind: str,
    amount: Decimal,
    *,
    key: str,
    short: str = "refuse",
    account: str | None = None,
    **options: Any,
) -> Journal:
    """A customer posting of `kind` (top_up, usage, deduction, management_fee, refund) for a
    positive `amount`, on the customer's prepaid account or on `account` (deposit,
    receivable). `short="receivable"`: what the prepaid balance cannot cover is posted to
    the customer's receivable instead of refusing."""
    if kind not in CUSTOMER_POSTINGS:
        raise Invalid([{"pointer": "/kind", "message": _("Unknown posting kind “%(kind)s”.", kind=kind)}])
    debit_name, credit_name = (
        name if name.startswith("system:") or account is None else account for name in CUSTOMER_POSTINGS[kind]
    )
    debit, credit = _accounts_named(customer, (debit_name, credit_name))
    whole = [Line(debit, amount), Line(credit, -amount)]
    if short != "receivable" or debit.kind != "prepaid":
        return post(kind, whole, key=key, **options)
    for _attempt in range(SPLIT_ATTEMPTS):
        try:
            return post(kind, whole, key=key, **options)
        except Shortfall as shortfall:  # (a key already taken is answered by post before this)
            if shortfall.account.id != debit.id:
                raise
            covered = min(amount, max(shortfall.balance, ZERO))
        except Conflict:  # the key's first posting may have been split: the same request, then
            existing = _by_key(key)
            lines = _split_lines(existing, debit, credit, amount) if existing is not None else None
            if lines is None:
                raise
            request = _content_hash(
                kind,
                lines,
                options.get("memo", ""),
                options.get("reference", ""),
                options.get("case_id"),
                None,
            )
            return _replayed(existing, request)
        receivable = customer_account(customer, "receivable")
        split = [Line(receivable, amount - covered), Line(credit, -amount)]
        if covered > 0:
            split.insert(0, Line(debit, covered))
        try:
            return post(kind, split, key=key, **options)
        except Shortfall:  # the prepaid balance fell meanwhile (another posting): take it again
            continue
    raise Conflict(_("The balance kept changing while this was posted; try again."))


def _split_lines(existing: Journal, debit: Account, credit: Account, amount: Decimal) -> list[Line] | None:
    """The lines of `existing` when it is `amount` split between `debit` (prepaid) and the
    customer's receivable against `credit`; None when it is something else."""
    by_account = {entry.account_id: entry for entry in existing.entries}
    if by_account.get(credit.id) is None or by_account[credit.id].amount != -amount:
        return None
    rest = [entry for entry in existing.entries if entry.account_id != credit.id]
    if not rest or any(
        entry.account_id != debit.id
        and not (entry.account.kind == "receivable" and entry.account.customer_id == debit.customer_id)
        for entry in rest
    ):
        return None
    return [Line(entry.account, entry.amount) for entry in existing.entries]


def unreversed_journals(case_id: int, kind: str | None = None) -> list[Journal]:
    """The journals posted for a case (of `kind`) that no reversal names yet, oldest first."""
    reversal = sa.orm.aliased(Journal)
    query = sa.select(Journal).where(
        Journal.case_id == case_id,
        Journal.kind != "reversal",
        ~sa.exists().where(reversal.reverses_id == Journal.id),
    )
    if kind is not None:
        query = query.where(Journal.kind == kind)
    return list(db.session.execute(query.order_by(Journal.id)).scalars())


def reverse(journal: Journal, *, key: str, memo: str = "", actor: Any = None) -> Journal:
    """A journal undoing `journal` (its lines negated), naming it; once per journal."""
    if journal.kind == "reversal":
        raise Conflict(_("A reversal cannot itself be reversed; post a new entry instead."))
    already = db.session.execute(
        sa.select(Journal).where(Journal.reverses_id == journal.id)
    ).scalar_one_or_none()
    if already is not None and already.idempotency_key != key:
        raise Conflict(_("This posting has already been reversed."))
    lines = [Line(entry.account, -entry.amount) for entry in journal.entries]
    return post(
        "reversal",
        lines,
        key=key,
        memo=memo or _("Reversal of posting %(id)d", id=journal.id),
        reference=journal.reference,
        case_id=journal.case_id,
        actor=actor,
        reverses=journal,
    )
