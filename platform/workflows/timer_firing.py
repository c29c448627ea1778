"""Firing one claimed timer: a reminder to whoever the step waits for, or the SLA's
`on_expire` (mark overdue, escalate to a role, or take an action); the notifications it sends.

`timers.tick` claims each timer and commits; this module only does the timer's work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.extensions import db
from formflow.forms.pointers import resolve
from formflow.forms.texts import localized
from formflow.forms.values import business_zone
from formflow.workflows.models import Notification, Timer
from formflow.workflows.timer_scheduling import DUE, REMINDER


def timer_facts(timer: Timer) -> dict:
    return {
        "timer": timer.id,
        "kind": timer.kind,
        "state": timer.state,
        "round": timer.round,
        "due": timer.fire_at,
    }


def fire(timer: Timer, now: datetime) -> tuple[str, str]:
    """Do what the timer is for; returns (report counter, outcome)."""
    from formflow.records.models import Case
    from formflow.workflows import engine

    case = db.session.get(Case, timer.case_id, populate_existing=True)
    if case is None or case.closed_at is not None:
        return "skipped", "skipped: the case is closed"
    if case.state != timer.state or case.state_round != timer.round:
        return "skipped", "skipped: the case has moved on"
    state = engine.state_spec(case)
    sla = state.get("sla") if isinstance(state.get("sla"), dict) else {}
    if timer.kind == REMINDER:
        outcome = remind(case, state, timer)
        audit.record("timer.fire", "case", case.id, after={**timer_facts(timer), "outcome": outcome})
        return "reminded", outcome
    outcome = _expire(case, state, sla.get("on_expire"), timer, now)
    audit.record("timer.fire", "case", case.id, after={**timer_facts(timer), "outcome": outcome})
    return "fired", outcome


def _expire(case, state: dict, on_expire: Any, timer: Timer, now: datetime) -> str:
    from formflow.workflows import engine

    if not isinstance(on_expire, dict) or not on_expire.get("do"):
        audit.record("case.overdue", "case", case.id, after=timer_facts(timer))
        return "overdue (no on_expire)"
    do = on_expire["do"]
    if do == "escalate":
        role = on_expire.get("role") or "manager"
        subject = _("Case %(id)s is overdue at “%(state)s” and was escalated to you.", id=case.id,
                    state=localized(state.get("title")) or case.state)  # fmt: skip
        _notify(case, subject=subject, body=_overdue_body(case, timer), role=role)
        audit.record("case.escalate", "case", case.id, after={**timer_facts(timer), "role": role})
        return f"escalated to {role}"
    if do == "action":
        name = on_expire.get("action")
        result = engine.perform(case, name, None, system=True, now=now)
        return f"action {name}: now at {result.state}"
    raise ValueError(f"unknown on_expire: {do!r}")


def _overdue_body(case, timer: Timer) -> str:
    due = timer.fire_at.replace(tzinfo=UTC).astimezone(business_zone())
    return _("%(process)s, customer %(customer)s: due %(due)s.", process=case.process.name_zh,
             customer=case.customer.code, due=due.strftime("%Y-%m-%d %H:%M"))  # fmt: skip


def remind(case, state: dict, timer: Timer) -> str:
    """Remind whoever the state waits for: the user the case is assigned to, the user named
    in the data, or the assignee role."""
    from formflow.auth.models import User

    due_timer = db.session.execute(
        sa.select(Timer.fire_at).where(
            Timer.case_id == case.id,
            Timer.state == timer.state,
            Timer.round == timer.round,
            Timer.kind == DUE,
        )
    ).scalar_one_or_none()
    due = (due_timer or timer.fire_at).replace(tzinfo=UTC).astimezone(business_zone())
    subject = _("Reminder: case %(id)s is due at %(due)s.", id=case.id, due=due.strftime("%Y-%m-%d %H:%M"))
    assignee = state.get("assignee") if isinstance(state.get("assignee"), dict) else {}
    if case.assigned_to_id is not None:
        _notify(case, subject=subject, body="", user_id=case.assigned_to_id)
        return f"reminded user {case.assigned_to_id}"
    if assignee.get("field"):
        username = resolve(case.data or {}, assignee["field"])
        user = (
            db.session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
            if isinstance(username, str)
            else None
        )
        if user is not None:
            _notify(case, subject=subject, body="", user_id=user.id)
            return f"reminded {user.username}"
    if assignee.get("role"):
        _notify(case, subject=subject, body="", role=assignee["role"])
        return f"reminded role {assignee['role']}"
    # no assignee: the roles that may act at the step, else whoever owns the case
    roles = sorted(
        {
            role
            for action in (state.get("actions") or {}).values()
            if isinstance(action, dict)
            for role in action.get("roles") or []
            if role != "admin"
        }
    )
    for role in roles:
        _notify(case, subject=subject, body="", role=role)
    if roles:
        return f"reminded roles {', '.join(roles)}"
    if case.created_by_id is not None:
        _notify(case, subject=subject, body="", user_id=case.created_by_id)
        return f"reminded the case's owner (user {case.created_by_id})"
    return "nobody to remind (no assignee, no roles, no owner)"


def _notify(case, *, subject: str, body: str, role: str | None = None, user_id: int | None = None) -> None:
    """In-app notifications, e-mailed later by `notify.send_pending_emails`. As the notify
    effect does: a role's active holders each get theirs (a role nobody holds gets one row
    for the role itself, so the first person given the role still sees it)."""
    from formflow.auth.models import User, UserRole

    if role is not None and user_id is None:
        holders = db.session.execute(
            sa.select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role, User.active.is_(True))
            .order_by(User.id)
        ).scalars()
        recipients = [(holder, role) for holder in holders] or [(None, role)]
    else:
        recipients = [(user_id, role)]
    db.session.add_all(
        Notification(user_id=uid, role=r, case_id=case.id, subject=subject[:300], body=body)
        for uid, r in recipients
    )
    db.session.flush()
