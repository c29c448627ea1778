"""Delegations: a user hands their approvals to another for some days (who may approve for
whom today, creating and revoking a delegation, the lists on the delegations page)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.auth.models import User
from formflow.auth.permissions import require
from formflow.errors import Forbidden, Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.rules.operators import business_today
from formflow.workflows.models import Delegation


def delegators_of(user, today: date | None = None) -> list[int]:
    """The ids of the users whose approvals `user` may give on `today` (both ends of a
    delegation included; revoked delegations and deactivated delegators do not count;
    delegations do not chain)."""
    if user is None or getattr(user, "id", None) is None:
        return []
    today = today or business_today()
    rows = db.session.execute(
        sa.select(Delegation.from_user_id)
        .join(User, User.id == Delegation.from_user_id)
        .where(
            Delegation.to_user_id == user.id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_on <= today,
            Delegation.ends_on >= today,
            User.active.is_(True),
        )
        .distinct()
        .order_by(Delegation.from_user_id)
    ).scalars()
    return list(rows)


def delegation_snapshot(delegation: Delegation) -> dict:
    return {
        "from": username_of(delegation.from_user_id),
        "to": username_of(delegation.to_user_id),
        "starts_on": delegation.starts_on.isoformat(),
        "ends_on": delegation.ends_on.isoformat(),
        "revoked_at": delegation.revoked_at,
    }


def delegate(from_user: User, to_user: User | None, starts_on, ends_on, actor) -> Delegation:
    """`from_user` hands their approvals to `to_user` from `starts_on` to `ends_on` (both
    included). Users delegate their own approvals; an administrator may for anyone."""
    require(actor, "delegations.manage")
    if actor.id != from_user.id and "admin" not in actor.role_names:
        raise Forbidden()
    errors = []
    if to_user is None:
        errors.append({"pointer": "/to", "message": _("Choose a user to delegate to.")})
    elif to_user.id == from_user.id:
        errors.append({"pointer": "/to", "message": _("You cannot delegate to yourself.")})
    elif not to_user.active:
        errors.append({"pointer": "/to", "message": _("This user is deactivated.")})
    elif not set(to_user.role_names) & set(from_user.role_names):
        # a delegate acts only through roles both hold: they stand in for a person, not a role
        message = _(
            "%(user)s holds none of the delegator's roles and could not act for them.", user=to_user.label
        )
        errors.append({"pointer": "/to", "message": message})
    if not isinstance(starts_on, date):
        errors.append({"pointer": "/starts_on", "message": _("Enter the first day (YYYY-MM-DD).")})
    if not isinstance(ends_on, date):
        errors.append({"pointer": "/ends_on", "message": _("Enter the last day (YYYY-MM-DD).")})
    if isinstance(starts_on, date) and isinstance(ends_on, date):
        if ends_on < starts_on:
            message = _("The last day is before the first day.")
            errors.append({"pointer": "/ends_on", "message": message})
        elif ends_on < business_today():
            errors.append({"pointer": "/ends_on", "message": _("The last day has already passed.")})
    if not errors and _overlapping(from_user.id, to_user.id, starts_on, ends_on):
        message = _("You already delegate to this user on some of these days.")
        errors.append({"pointer": "/starts_on", "message": message})
    if errors:
        raise Invalid(errors)
    delegation = Delegation(
        from_user_id=from_user.id, to_user_id=to_user.id, starts_on=starts_on, ends_on=ends_on
    )
    db.session.add(delegation)
    db.session.flush()
    audit.record(
        "delegation.create", "delegation", delegation.id, after=delegation_snapshot(delegation), actor=actor
    )
    return delegation


def _overlapping(from_id: int, to_id: int, starts_on: date, ends_on: date) -> bool:
    found = db.session.execute(
        sa.select(Delegation.id).where(
            Delegation.from_user_id == from_id,
            Delegation.to_user_id == to_id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_on <= ends_on,
            Delegation.ends_on >= starts_on,
        )
    ).first()
    return found is not None


def get_delegation(delegation_id: int) -> Delegation:
    found = db.session.get(Delegation, delegation_id) if 0 < delegation_id < 2**63 else None
    if found is None:
        raise NotFound(_("No delegation number %(id)s.", id=delegation_id))
    return found


def revoke(delegation: Delegation, actor) -> Delegation:
    """End a delegation now (its delegator, its delegate or an administrator may)."""
    require(actor, "delegations.manage")
    if actor.id not in (delegation.from_user_id, delegation.to_user_id) and "admin" not in actor.role_names:
        raise Forbidden()
    if delegation.revoked_at is not None:
        return delegation
    before = delegation_snapshot(delegation)
    delegation.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        "delegation.revoke",
        "delegation",
        delegation.id,
        before=before,
        after=delegation_snapshot(delegation),
        actor=actor,
    )
    return delegation


def delegations_of(user) -> tuple[list[Delegation], list[Delegation]]:
    """(given by `user`, received by `user`): current and future ones first, newest first."""

    def query(column):
        return list(
            db.session.execute(
                sa.select(Delegation)
                .where(column == user.id)
                .order_by(Delegation.revoked_at.is_not(None), Delegation.ends_on.desc(), Delegation.id.desc())
                .limit(100)
            ).scalars()
        )

    return query(Delegation.from_user_id), query(Delegation.to_user_id)


def username_of(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user else None
