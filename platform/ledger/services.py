"""Posting to the ledger: the one door (`post`), the customer postings built on it, reversals
and balances.

`post` is idempotent and race-free:
- the journal's idempotency key is unique: the same key with the same content gives the first
  journal back, with other content a Conflict (409); two concurrent postings of one key meet
  at the unique index, the later one finds the first;
- each customer account's balance moves by one conditional `UPDATE … RETURNING`, which refuses
  to take a prepaid or deposit balance below zero (Invalid, 422, with the shortfall); the
  accounts are updated in the order of their ids, so two journals never deadlock;
- it runs in a savepoint inside the caller's transaction (a workflow transition, a request):
  a refused posting leaves nothing of itself, and the caller commits or rolls back the rest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from formflow.audit import services as audit
from formflow.customers.models import Customer
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.ledger import alerts
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
ZERO = Decimal("0.00")

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
) -> Journal:
    """Post one journal of `lines` (summing to zero), once per `key` (see the module's notes)."""
    _check(kind, lines, key, memo, reference)
    content_hash = _content_hash(kind, lines, memo, reference, case_id, reverses)
    existing = _by_key(key)
    if existing is not None:
        return _replayed(existing, content_hash)
    try:
        with db.session.begin_nested():
            journal = Journal(
                idempotency_key=key,
                content_hash=content_hash,
                kind=kind,
                memo=memo,
                reference=reference,
                case_id=case_id,
                reverses_id=reverses.id if reverses is not None else None,
                posted_by_id=getattr(actor, "id", None),
                details=details,
            )
            db.session.add(journal)
            db.session.flush()  # the unique key: a concurrent twin stops here
            _write_entries(journal, lines)
            audit.record(
                "ledger.post",
                "journal",
                journal.id,
                after={
                    "key": key,
                    "kind": kind,
                    "lines": [[line.account.code, str(line.amount)] for line in lines],
                    "case": case_id,
                    "reverses": journal.reverses_id,
                },
                actor=actor,
            )
    except IntegrityError:
        existing = _by_key(key)
        if existing is None:  # not the key: a second reversal of one journal
            raise Conflict(_("This posting has already been reversed.")) from None
        return _replayed(existing, content_hash)
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


def _write_entries(journal: Journal, lines: Sequence[Line]) -> None:
    """Move each customer account's balance (in the order of account ids), then write the lines."""
    balances: dict[int, Decimal] = {}
    moves: list[tuple[Account, Decimal, Decimal]] = []
    for line in sorted(lines, key=lambda line: line.account.id):
        account = line.account
        if account.customer_id is None:
            continue
        delta = line.amount * account.sign
        moved = db.session.execute(
            sa.update(Account)
            .where(
                Account.id == account.id,
                sa.or_(Account.allow_negative, Account.balance + delta >= 0),
            )
            .values(balance=Account.balance + delta)
            .returning(Account.balance)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if moved is None:
            current = db.session.execute(
                sa.select(Account.balance).where(Account.id == account.id)
            ).scalar_one()
            raise Shortfall(account, current, -delta)
        set_committed_value(account, "balance", moved)
        balances[account.id] = moved
        moves.append((account, moved - delta, moved))
    for line in lines:
        db.session.add(
            Entry(
                journal=journal,
                account_id=line.account.id,
                amount=line.amount,
                balance_after=balances.get(line.account.id),
                posted_at=journal.posted_at,
            )
        )
    db.session.flush()
    for account, before, after in moves:
        alerts.after_move(account, before, after, journal)


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
    debit, credit = account_named(customer, debit_name), account_named(customer, credit_name)
    if short == "receivable" and debit.kind == "prepaid" and _by_key(key) is None:
        covered = min(amount, max(_locked_balance(debit), ZERO))
        if covered < amount:
            receivable = customer_account(customer, "receivable")
            lines = [Line(receivable, amount - covered), Line(credit, -amount)]
            if covered > 0:
                lines.insert(0, Line(debit, covered))
            return post(kind, lines, key=key, **options)
    return post(kind, [Line(debit, amount), Line(credit, -amount)], key=key, **options)


def _locked_balance(account: Account) -> Decimal:
    """The account's balance, its row locked until the transaction ends (PostgreSQL)."""
    return db.session.execute(
        sa.select(Account.balance).where(Account.id == account.id).with_for_update()
    ).scalar_one()


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
