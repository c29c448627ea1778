"""Closing a month (月结) after reconciliation. Three checks, each named when it fails:

1. the balance assertion (as Beancount's `balance`): the ledger's bank account at the end of the
   month equals the bank's closing balance — the sum over the bank accounts of each one's
   closing balance, given by the person closing or read from the month's last statement line
   that carries a balance;
2. every bank line of the month is matched or explained;
3. `ledger verify` is clean.

Then ledger.periods closes the month: postings dated inside it are refused from then on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from formflow.errors import Invalid
from formflow.extensions import db
from formflow.i18n import business_zone
from formflow.ledger import periods, verify
from formflow.ledger.models import Entry, Journal, LedgerPeriod
from formflow.ledger.services import system_account
from formflow.money import CENT, MAX_AMOUNT
from formflow.reconcile.models import BankAccount, BankLine

ZERO = Decimal("0.00")


@dataclass
class AccountClosing:
    account: BankAccount
    #: the closing balance used, and where it came from ("given", "statement") or None
    balance: Decimal | None
    source: str
    lines: int = 0
    open_lines: int = 0


@dataclass
class CloseCheck:
    month: str
    first_day: date
    last_day: date
    ledger_balance: Decimal
    bank_balance: Decimal | None
    accounts: list[AccountClosing] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    period: LedgerPeriod | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def facts(self) -> dict:
        return {
            "ledger_balance": str(self.ledger_balance),
            "bank_balance": None if self.bank_balance is None else str(self.bank_balance),
            "accounts": {
                a.account.name: None if a.balance is None else str(a.balance) for a in self.accounts
            },
            "lines": sum(a.lines for a in self.accounts),
        }


def ledger_bank_balance(last_day: date) -> Decimal:
    """The ledger's bank account at the end of `last_day`: its entries counted on their journal's
    value date (posted_at's for journals from before value dates)."""
    bank = system_account("bank")
    end = datetime.combine(last_day + timedelta(days=1), time(), business_zone())
    end_utc = end.astimezone(UTC).replace(tzinfo=None)
    total = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Entry.amount), 0))
        .join(Journal, Journal.id == Entry.journal_id)
        .where(
            Entry.account_id == bank.id,
            sa.or_(
                Journal.value_date <= last_day,
                sa.and_(Journal.value_date.is_(None), Journal.posted_at < end_utc),
            ),
        )
    ).scalar_one()
    return (total if isinstance(total, Decimal) else Decimal(total or 0)).quantize(CENT)


def check(month: str, given: dict[int, Any] | None = None) -> CloseCheck:
    """The month's checks; `given`: closing balances typed by the person closing, per bank account."""
    first, last = periods.month_of(month)
    given = given or {}
    result = CloseCheck(month, first, last, ledger_bank_balance(last), None, period=periods.period(month))
    total, known = ZERO, True
    for account in db.session.execute(sa.select(BankAccount).order_by(BankAccount.name)).scalars():
        closing = _account_closing(account, first, last, given.get(account.id), result.problems)
        result.accounts.append(closing)
        if closing.balance is None:
            known = False
        else:
            total += closing.balance
        if closing.open_lines:
            message = ngettext(
                "%(account)s: %(num)d bank line of %(month)s is neither matched nor explained.",
                "%(account)s: %(num)d bank lines of %(month)s are neither matched nor explained.",
                closing.open_lines,
                account=account.name,
                month=month,
            )
            result.problems.append({"pointer": f"/accounts/{account.id}/lines", "message": message})
    result.bank_balance = total if known and result.accounts else None
    if not result.accounts:
        result.problems.append({"pointer": "/accounts", "message": _("No bank account has been set up.")})
    elif result.bank_balance is not None and result.bank_balance != result.ledger_balance:
        message = _(
            "Balance assertion failed: the ledger's bank account is %(ledger)s at the end of %(month)s, "
            "the bank says %(bank)s (a difference of %(diff)s).",
            ledger=f"{result.ledger_balance:,.2f}",
            month=month,
            bank=f"{result.bank_balance:,.2f}",
            diff=f"{result.ledger_balance - result.bank_balance:,.2f}",
        )
        result.problems.append({"pointer": "/balance", "message": message})
    ledger_check = verify.verify()
    if not ledger_check.ok:
        message = _("The ledger does not verify: %(problem)s", problem=ledger_check.problem)
        result.problems.append({"pointer": "/ledger", "message": message})
    return result


def _account_closing(account, first, last, typed, problems) -> AccountClosing:
    in_month = (
        BankLine.bank_account_id == account.id,
        BankLine.booked_on >= first,
        BankLine.booked_on <= last,
    )
    lines = db.session.execute(sa.select(sa.func.count()).where(*in_month)).scalar_one()
    open_lines = db.session.execute(
        sa.select(sa.func.count()).where(*in_month, BankLine.status == "unmatched")
    ).scalar_one()
    if typed not in (None, ""):
        balance = _balance(typed, f"/accounts/{account.id}/balance", problems)
        return AccountClosing(account, balance, "given", lines, open_lines)
    last_line = db.session.execute(
        sa.select(BankLine.balance)
        .where(
            BankLine.bank_account_id == account.id, BankLine.booked_on <= last, BankLine.balance.is_not(None)
        )
        .order_by(BankLine.booked_on.desc(), BankLine.import_id.desc(), BankLine.row_number.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last_line is None:
        message = _(
            "%(account)s: give the bank's closing balance (its statement shows none).", account=account.name
        )
        problems.append({"pointer": f"/accounts/{account.id}/balance", "message": message})
        return AccountClosing(account, None, "", lines, open_lines)
    return AccountClosing(account, last_line, "statement", lines, open_lines)


def _balance(value: Any, pointer: str, problems: list[dict]) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        amount = None
    if (
        amount is None
        or not amount.is_finite()
        or abs(amount) > MAX_AMOUNT
        or amount != amount.quantize(CENT)
    ):
        problems.append({"pointer": pointer, "message": _("Not an amount of money: %(v)s", v=value)})
        return None
    return amount.quantize(CENT)


def close(month: str, given: dict[int, Any] | None = None, *, actor) -> CloseCheck:
    """Close the month when every check passes; Invalid naming each failed check otherwise."""
    result = check(month, given)
    if not result.ok:
        raise Invalid(result.problems)
    result.period = periods.close(month, facts=result.facts(), actor=actor)
    return result
