"""Closed periods (月结): a business month closed after reconciliation refuses every posting
dated inside it; corrections go into the open period as reversals or new postings naming the
original. Reopening takes two people: one asks (with a reason), another approves.

The check costs nothing on the usual path: a posting dated in the current month (every fee
run, every case) cannot fall in a closed month — only a month that has ended may be closed —
so only postings dated earlier (a payment received last month) read the closed periods."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from formflow.audit import services as audit
from formflow.errors import Conflict, Forbidden, Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.ledger.models import LedgerPeriod
from formflow.rules.operators import business_today


def today() -> date:
    """The business day now (Asia/Shanghai by default; `tick --now` fixes it)."""
    return business_today()


def month_of(value: str) -> tuple[date, date]:
    """ "2026-11" as its first and last day; Invalid at /month otherwise."""
    try:
        year, month = (int(part) for part in str(value).split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError):
        raise Invalid([{"pointer": "/month", "message": _("Not a month: %(v)s", v=value)}]) from None
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following - timedelta(days=1)


#: the closed periods as this transaction read them (the key in Session.info; see _forget)
_CACHE = "formflow.closed_periods"


def _closed_periods() -> list[tuple[date, date, str]]:
    """(first day, last day, month) of each closed period, read once per transaction: a statement
    of 10,000 bank lines matched in one asks once, not twice a line."""
    found = db.session.info.get(_CACHE)
    if found is None:
        rows = db.session.execute(
            sa.select(LedgerPeriod.first_day, LedgerPeriod.last_day, LedgerPeriod.month).where(
                LedgerPeriod.status == "closed"
            )
        ).all()
        found = db.session.info[_CACHE] = [tuple(row) for row in rows]
    return found


@sa.event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction) -> None:
    """A new transaction reads the closed periods afresh (a savepoint's end keeps them)."""
    if transaction.parent is None:
        session.info.pop(_CACHE, None)


def closed_month_of(day: date) -> str | None:
    """The closed month holding `day` ("2026-11"), if any."""
    for first, last, month in _closed_periods():
        if first <= day <= last:
            return month
    return None


def refuse_if_closed(day: date) -> None:
    """Invalid (at /value_date) when `day` lies in a closed period."""
    if day >= today().replace(day=1):
        return
    month = closed_month_of(day)
    if month is not None:
        message = _(
            "The period %(month)s is closed: a posting dated %(day)s is refused. Post the correction "
            "into the open period, naming the original.",
            month=month,
            day=day.isoformat(),
        )
        raise Invalid([{"pointer": "/value_date", "message": message}])


def period(month: str) -> LedgerPeriod | None:
    return db.session.execute(sa.select(LedgerPeriod).where(LedgerPeriod.month == month)).scalar_one_or_none()


def close(month: str, *, facts: dict, actor) -> LedgerPeriod:
    """Close `month` (its checks are the caller's: reconcile.closing); Conflict when closed."""
    first, last = month_of(month)
    if last >= today():
        raise Conflict(_("%(month)s has not ended yet; only a past month can be closed.", month=month))
    row = period(month)
    if row is not None and row.status == "closed":
        raise Conflict(_("%(month)s is already closed.", month=month))
    if row is None:
        row = LedgerPeriod(month=month, first_day=first, last_day=last)
        db.session.add(row)
    row.status, row.closed_at, row.closed_by_id, row.facts = "closed", utcnow(), actor.id, facts
    row.reopen_reason, row.reopen_requested_by_id, row.reopen_requested_at = "", None, None
    db.session.flush()
    db.session.info.pop(_CACHE, None)
    audit.record("ledger.period.close", "ledger_period", row.id, after={"month": month} | facts, actor=actor)
    return row


def request_reopen(month: str, reason: str, *, actor) -> LedgerPeriod:
    row = _closed(month)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid([{"pointer": "/reason", "message": _("Say why the period is to be reopened.")}])
    if len(reason) > 500:
        raise Invalid(
            [{"pointer": "/reason", "message": _("The reason is too long (500 characters at most).")}]
        )
    if row.reopen_requested_by_id is not None:
        raise Conflict(_("Reopening %(month)s has already been asked for.", month=month))
    row.reopen_reason, row.reopen_requested_by_id, row.reopen_requested_at = reason, actor.id, utcnow()
    db.session.flush()
    audit.record(
        "ledger.period.reopen_request", "ledger_period", row.id, after={"month": month, "reason": reason},
        actor=actor,
    )  # fmt: skip
    return row


def approve_reopen(month: str, *, actor) -> LedgerPeriod:
    row = _closed(month)
    if row.reopen_requested_by_id is None:
        raise Conflict(_("No one has asked to reopen %(month)s.", month=month))
    if row.reopen_requested_by_id == actor.id:
        raise Forbidden(_("A second person approves reopening: not the one who asked."))
    row.status, row.reopened_by_id, row.reopened_at = "open", actor.id, utcnow()
    db.session.flush()
    db.session.info.pop(_CACHE, None)
    audit.record(
        "ledger.period.reopen", "ledger_period", row.id,
        after={"month": month, "reason": row.reopen_reason, "asked_by": row.reopen_requested_by_id},
        actor=actor,
    )  # fmt: skip
    return row


def _closed(month: str) -> LedgerPeriod:
    month_of(month)
    row = period(month)
    if row is None or row.status != "closed":
        raise NotFound(_("%(month)s is not closed.", month=month))
    return row


def all_periods() -> list[LedgerPeriod]:
    return list(db.session.execute(sa.select(LedgerPeriod).order_by(LedgerPeriod.month.desc())).scalars())
