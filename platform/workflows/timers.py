"""SLA timers: scheduled when a case enters a state with an `sla`, fired by `formflow tick`.

`schedule` writes one `due` timer (the state's `on_expire`) and one `reminder` per
`remind_before`. `tick` fires what is due. It is safe to run from cron on every node at
once: each timer is claimed in the database before anything happens (PostgreSQL:
`SELECT … FOR UPDATE SKIP LOCKED`; SQLite: a conditional UPDATE under the write lock that
BEGIN IMMEDIATE takes), so no timer ever fires twice, and each timer's work commits in its
own transaction, so one failure does not hold up the rest.

Times are stored as naive UTC. A duration counts from the moment the case entered the state;
months and years are calendar months in the business time zone (P1M from 31 January ends on
the last day of February). A date from the data (`{"field": "/deadline"}`) means 00:00 of
that day in the business time zone.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.errors import Conflict
from formflow.extensions import db, utcnow
from formflow.forms.pointers import resolve
from formflow.forms.texts import localized
from formflow.forms.values import business_zone
from formflow.rules.operators import add_months
from formflow.workflows.models import Notification, Timer

log = logging.getLogger(__name__)

DUE, REMINDER = "due", "reminder"

# --- durations -------------------------------------------------------------------------

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration: calendar months (years × 12 + months) plus a fixed time span."""

    months: int
    span: timedelta


def parse_duration(text: Any) -> Duration:
    """`PT48H`, `P30D`, `P1M`, `P1Y2M3DT4H5M6S`, `P2W` → Duration; ValueError otherwise."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    part = {name: int(value or 0) for name, value in match.groupdict().items()}
    span = timedelta(
        weeks=part["weeks"],
        days=part["days"],
        hours=part["hours"],
        minutes=part["minutes"],
        seconds=part["seconds"],
    )
    return Duration(part["years"] * 12 + part["months"], span)


def shift(moment: datetime, duration: Duration, sign: int = 1) -> datetime:
    """`moment` (naive UTC) moved by `duration` (back when `sign` is -1); calendar months are
    counted on the business time zone's calendar."""
    if duration.months:
        local = moment.replace(tzinfo=UTC).astimezone(business_zone())
        moved = add_months(local.date(), sign * duration.months)
        local = datetime.combine(moved, local.timetz())
        moment = local.astimezone(UTC).replace(tzinfo=None)
    return moment + sign * duration.span


def to_utc_naive(moment: datetime) -> datetime:
    """A datetime as stored: naive UTC. A naive input means the business time zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=business_zone())
    return moment.astimezone(UTC).replace(tzinfo=None)


def _deadline(value: Any) -> datetime | None:
    """A date (or date-time) from the data as naive UTC; a date means 00:00 business time."""
    if isinstance(value, datetime):
        return to_utc_naive(value)
    if isinstance(value, date):
        return to_utc_naive(datetime.combine(value, datetime.min.time()))
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return to_utc_naive(datetime.combine(date.fromisoformat(text), datetime.min.time()))
        return to_utc_naive(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def _after(now: datetime, value, unit: str) -> datetime | None:
    """`now` plus a whole number of days (calendar days, as a period in a notice is counted)
    or hours from the data; None when the data holds no positive whole number."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal) or value != int(value) or value <= 0:
        return None
    count = int(value)
    if count > 3660:
        return None  # beyond any period a process means; the timer is not scheduled
    return shift(now, parse_duration(f"P{count}D" if unit == "days" else f"PT{count}H"))


def due_at(case, sla: dict, now: datetime) -> datetime | None:
    """When the SLA of a state entered at `now` expires (None: no due time can be worked out,
    e.g. the data has no deadline)."""
    due = sla.get("due")
    if isinstance(due, dict) and isinstance(due.get("field"), str):
        value = resolve(case.data or {}, due["field"])
        by_count = due.get("unit") in ("days", "hours")
        moment = _after(now, value, due["unit"]) if by_count else _deadline(value)
        if moment is None and isinstance(due.get("default"), str):
            return shift(now, parse_duration(due["default"]))
        return moment
    if isinstance(due, str):
        return shift(now, parse_duration(due))
    return None


# --- scheduling ------------------------------------------------------------------------


def schedule(case, state, state_spec: dict, now: datetime) -> list[Timer]:
    """The timers of `state_spec["sla"]` for the case, which has just entered `state` (its
    current round): one `due` timer and a `reminder` per `remind_before` still ahead.
    Called by the engine inside the transition's transaction; nothing when there is no SLA."""
    sla = state_spec.get("sla")
    if not isinstance(sla, dict):
        return []
    now = to_utc_naive(now) if now.tzinfo is not None else now
    due = due_at(case, sla, now)
    if due is None:
        field = (sla.get("due") or {}).get("field") if isinstance(sla.get("due"), dict) else None
        reason = f"no date in the data at {field}" if field else "no due time"
        audit.record(
            "timer.not_scheduled",
            "case",
            case.id,
            after={"state": state, "round": case.state_round, "reason": reason},
        )
        return []
    moments = [(DUE, due)]
    for before in sla.get("remind_before") or []:
        reminder = shift(due, parse_duration(before), -1)
        if reminder > now:  # a reminder already in the past is of no use
            moments.append((REMINDER, reminder))
    existing = {
        (row.kind, row.fire_at)
        for row in db.session.execute(
            sa.select(Timer).where(
                Timer.case_id == case.id, Timer.state == state, Timer.round == case.state_round
            )
        ).scalars()
    }
    created = []
    for kind, fire_at in sorted(set(moments), key=lambda pair: pair[1]):
        if (kind, fire_at) in existing:
            continue
        timer = Timer(case_id=case.id, state=state, round=case.state_round, kind=kind, fire_at=fire_at)
        db.session.add(timer)
        created.append(timer)
    db.session.flush()
    if created:
        audit.record(
            "timer.schedule",
            "case",
            case.id,
            after={
                "state": state,
                "round": case.state_round,
                "due": due,
                "reminders": sorted(t.fire_at for t in created if t.kind == REMINDER),
            },
        )
    return created


# --- firing ----------------------------------------------------------------------------


@dataclass
class TickError:
    timer_id: int | None
    case_id: int | None
    message: str

    def __str__(self) -> str:
        if self.timer_id is None:
            return self.message
        return f"timer {self.timer_id} (case {self.case_id}): {self.message}"


@dataclass
class TickReport:
    """What one tick did: due timers fired, reminders sent, timers skipped (case moved on or
    closed), failures; plus what the other scheduled jobs returned."""

    fired: int = 0
    reminded: int = 0
    skipped: int = 0
    errors: list[TickError] = field(default_factory=list)
    now: datetime | None = None
    jobs: dict[str, Any] = field(default_factory=dict)


def default_node() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def pending(now: datetime) -> list[int]:
    """The ids of the timers due at `now` and not fired yet, oldest first."""
    return list(
        db.session.execute(
            sa.select(Timer.id)
            .where(Timer.fired_at.is_(None), Timer.fire_at <= now)
            .order_by(Timer.fire_at, Timer.id)
        ).scalars()
    )


def tick(
    now: datetime | None = None,
    node: str | None = None,
    *,
    progress: Callable[[int], Any] | None = None,
) -> TickReport:
    """Fire every timer due at `now` (default: the current time; naive means UTC here), each
    claimed atomically and committed on its own; then retry webhooks, send pending e-mails
    and delete uploads that never went on a case. Running it again for the same `now` does
    nothing more. `progress(n)` is called after each timer (the CLI's progress bar)."""
    now = utcnow() if now is None else (now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now)
    node = node or default_node()
    report = TickReport(now=now)
    due = pending(now)
    db.session.commit()  # a transaction per timer from here on
    for timer_id in due:
        _fire_one(timer_id, now, node, report)
        if progress is not None:
            progress(1)
    _run_jobs(now, report)
    return report


def _claim(timer_id: int, now: datetime, node: str) -> Timer | None:
    """The timer, now claimed by this transaction; None when another node has it or it fired."""
    if db.session.get_bind().dialect.name == "postgresql":
        # Skip a row another node holds instead of waiting for it: that node fires it.
        timer = db.session.execute(
            sa.select(Timer)
            .where(Timer.id == timer_id, Timer.fired_at.is_(None))
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if timer is None:
            return None
        timer.fired_at, timer.claimed_by = now, node
        db.session.flush()
        return timer
    # SQLite: BEGIN IMMEDIATE holds the write lock for the whole transaction, so exactly
    # one node's UPDATE finds fired_at still NULL.
    claimed = db.session.execute(
        sa.update(Timer)
        .where(Timer.id == timer_id, Timer.fired_at.is_(None))
        .values(fired_at=now, claimed_by=node)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    return db.session.get(Timer, timer_id, populate_existing=True)


def _fire_one(timer_id: int, now: datetime, node: str, report: TickReport) -> None:
    case_id = None
    try:
        timer = _claim(timer_id, now, node)
        if timer is None:
            db.session.rollback()
            return
        case_id = timer.case_id
        try:
            with db.session.begin_nested():
                counter, outcome = _fire(timer, now)
        except Conflict:
            # Someone acted on the case at the same moment: un-claim; the next tick finds
            # the case moved on (skipped) or fires the timer then.
            db.session.rollback()
            report.errors.append(
                TickError(timer_id, case_id, "the case changed meanwhile; retried next tick")
            )
            return
        except Exception as error:  # recorded on the timer and in the audit log
            counter, outcome = "errors", f"error: {_describe(error)}"
            log.warning("timer %s (case %s) failed: %s", timer_id, case_id, outcome, exc_info=True)
            report.errors.append(TickError(timer_id, case_id, _describe(error)))
            audit.record("timer.error", "case", case_id, after={**_timer_facts(timer), "outcome": outcome})
        timer.outcome = outcome
        db.session.commit()
    except Exception as error:  # the claim or commit itself failed: nothing of it remains
        db.session.rollback()
        log.exception("timer %s could not be fired", timer_id)
        report.errors.append(TickError(timer_id, case_id, _describe(error)))
        return
    if counter != "errors":
        setattr(report, counter, getattr(report, counter) + 1)


def _describe(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return message[:500]


def _timer_facts(timer: Timer) -> dict:
    return {
        "timer": timer.id,
        "kind": timer.kind,
        "state": timer.state,
        "round": timer.round,
        "due": timer.fire_at,
    }


def _fire(timer: Timer, now: datetime) -> tuple[str, str]:
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
        outcome = _remind(case, state, timer)
        audit.record("timer.fire", "case", case.id, after={**_timer_facts(timer), "outcome": outcome})
        return "reminded", outcome
    outcome = _expire(case, state, sla.get("on_expire"), timer, now)
    audit.record("timer.fire", "case", case.id, after={**_timer_facts(timer), "outcome": outcome})
    return "fired", outcome


def _expire(case, state: dict, on_expire: Any, timer: Timer, now: datetime) -> str:
    from formflow.workflows import engine

    if not isinstance(on_expire, dict) or not on_expire.get("do"):
        audit.record("case.overdue", "case", case.id, after=_timer_facts(timer))
        return "overdue (no on_expire)"
    do = on_expire["do"]
    if do == "escalate":
        role = on_expire.get("role") or "manager"
        subject = _("Case %(id)s is overdue at “%(state)s” and was escalated to you.", id=case.id,
                    state=localized(state.get("title")) or case.state)  # fmt: skip
        _notify(case, subject=subject, body=_overdue_body(case, timer), role=role)
        audit.record("case.escalate", "case", case.id, after={**_timer_facts(timer), "role": role})
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


def _remind(case, state: dict, timer: Timer) -> str:
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


# --- the other scheduled jobs ----------------------------------------------------------

#: (module, function, whether it takes `now`): jobs of other modules run after the timers.
JOBS = (
    ("formflow.workflows.webhooks", "retry_webhooks", True),
    ("formflow.workflows.notify", "send_pending_emails", False),
    ("formflow.auth.services", "purge_login_records", True),
    ("formflow.records.uploads", "remove_orphan_uploads", True),
)


def _run_jobs(now: datetime, report: TickReport) -> None:
    for module_name, function_name, takes_now in JOBS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name != module_name:
                raise
            continue
        job = getattr(module, function_name, None)
        if job is None:
            continue
        try:
            report.jobs[function_name] = job(now) if takes_now else job()
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            log.exception("%s failed", function_name)
            report.errors.append(TickError(None, None, f"{function_name}: {_describe(error)}"))
