"""A customer's status and the blacklist: every change kept with who, when, why and the case
that decided it; and the spec option that keeps a process from starting for customers in a
chosen status ("customers": {"refuse_status": ["offboarded", "blacklisted"]})."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.customers.models import CUSTOMER_STATUSES, BlacklistEntry, Customer, StatusChange, status_label
from formflow.errors import Conflict, Invalid
from formflow.extensions import db, utcnow
from formflow.i18n import business_zone

REASON_LIMIT = 2000
#: set while the blacklist itself moves a customer into or out of "blacklisted"
_by_blacklist: ContextVar[bool] = ContextVar("by_blacklist", default=False)


@contextmanager
def _blacklisting():
    token = _by_blacklist.set(True)
    try:
        yield
    finally:
        _by_blacklist.reset(token)


def set_status(customer: Customer, status: str, *, reason: str = "", actor=None, case_id: int | None = None):
    """Move the customer to `status`, kept in its history and the audit log; nothing when it
    is already there. Returns the history line (None when nothing changed). Into and out of
    blacklisted only by the blacklist (add_to_blacklist, lift_blacklist): Invalid otherwise."""
    if status not in CUSTOMER_STATUSES:
        raise Invalid([{"pointer": "/status", "message": _("Unknown status.")}])
    if not _by_blacklist.get():
        refuse_blacklist_change(customer.status, status)
    if len(reason or "") > REASON_LIMIT:
        raise Invalid([{"pointer": "/reason", "message": _("At most %(n)d characters.", n=REASON_LIMIT)}])
    before = customer.status
    if before == status:
        return None
    customer.status = status
    change = StatusChange(customer_id=customer.id, before=before, after=status, reason=reason or "",
                          actor_id=getattr(actor, "id", None), case_id=case_id)  # fmt: skip
    db.session.add(change)
    db.session.flush()
    after = {"status": status, "reason": reason or ""} | ({"case": case_id} if case_id else {})
    audit.record(
        "customer.status", "customer", customer.id, before={"status": before}, after=after, actor=actor
    )
    return change


def refuse_blacklist_change(before: str | None, after: str) -> None:
    """Invalid when a status change would put a customer on or take them off the blacklist:
    only the blacklist does that (with its entry: reason, date, who)."""
    if after == "blacklisted" and before != "blacklisted":
        raise Invalid([{"pointer": "/status", "message": _("Use the blacklist to blacklist a customer.")}])
    if before == "blacklisted" and after != "blacklisted":
        message = _("Take the customer off the blacklist first.")
        raise Invalid([{"pointer": "/status", "message": message}])


def history(customer: Customer) -> list[StatusChange]:
    query = (
        sa.select(StatusChange)
        .where(StatusChange.customer_id == customer.id)
        .order_by(StatusChange.changed_at.desc(), StatusChange.id.desc())
    )
    return list(db.session.execute(query).scalars())


def blacklist_entries(customer: Customer) -> list[BlacklistEntry]:
    query = sa.select(BlacklistEntry).where(BlacklistEntry.customer_id == customer.id)
    return list(db.session.execute(query.order_by(BlacklistEntry.id.desc())).scalars())


def current_entry(customer: Customer) -> BlacklistEntry | None:
    return next((entry for entry in blacklist_entries(customer) if entry.lifted_at is None), None)


def _reason(reason) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise Invalid([{"pointer": "/reason", "message": _("Give the reason.")}])
    if len(text) > REASON_LIMIT:
        raise Invalid([{"pointer": "/reason", "message": _("At most %(n)d characters.", n=REASON_LIMIT)}])
    return text


def add_to_blacklist(
    customer: Customer, reason: str, *, actor=None, case_id: int | None = None
) -> BlacklistEntry:
    """Put the customer on the blacklist (status blacklisted); Conflict when already on it."""
    text = _reason(reason)
    if current_entry(customer) is not None:
        raise Conflict(_("%(code)s is already on the blacklist.", code=customer.code))
    entry = BlacklistEntry(customer_id=customer.id, reason=text, listed_on=utcnow_local_date(),
                           actor_id=getattr(actor, "id", None), case_id=case_id)  # fmt: skip
    db.session.add(entry)
    db.session.flush()
    audit.record("customer.blacklist", "customer", customer.id, after={"reason": text, "case": case_id},
                 actor=actor)  # fmt: skip
    with _blacklisting():
        set_status(customer, "blacklisted", reason=text, actor=actor, case_id=case_id)
    return entry


def lift_blacklist(customer: Customer, reason: str, *, status: str = "active", actor=None) -> BlacklistEntry:
    """Take the customer off the blacklist, to `status`; Conflict when not on it."""
    text = _reason(reason)
    entry = current_entry(customer)
    if entry is None:
        raise Conflict(_("%(code)s is not on the blacklist.", code=customer.code))
    if status == "blacklisted" or status not in CUSTOMER_STATUSES:
        raise Invalid([{"pointer": "/status", "message": _("Choose the status the customer returns to.")}])
    entry.lifted_at, entry.lifted_by_id, entry.lift_reason = utcnow(), getattr(actor, "id", None), text
    db.session.flush()
    audit.record("customer.blacklist_lift", "customer", customer.id, before={"reason": entry.reason},
                 after={"reason": text, "status": status}, actor=actor)  # fmt: skip
    with _blacklisting():
        set_status(customer, status, reason=text, actor=actor)
    return entry


def utcnow_local_date() -> date:
    return utcnow().replace(tzinfo=UTC).astimezone(business_zone()).date()


# --- the spec option ----------------------------------------------------------------------------


def refused_statuses(spec: dict) -> list[str]:
    """The statuses for which the process's spec refuses a new case."""
    option = spec.get("customers") if isinstance(spec, dict) else None
    found = option.get("refuse_status") if isinstance(option, dict) else None
    return [status for status in found if status in CUSTOMER_STATUSES] if isinstance(found, list) else []


def refusal(spec: dict, customer: Customer, process_name: str) -> str | None:
    """Why the process does not start for the customer (None: it does)."""
    if customer.status not in refused_statuses(spec):
        return None
    message = _(
        "%(process)s cannot be started for %(name)s (%(code)s): the customer is %(status)s.",
        process=process_name, name=customer.name, code=customer.code, status=status_label(customer.status),
    )  # fmt: skip
    entry = current_entry(customer) if customer.status == "blacklisted" else None
    if entry is not None:
        message += " " + _(
            "Blacklisted on %(day)s: %(reason)s", day=entry.listed_on.isoformat(), reason=entry.reason
        )
    return message
