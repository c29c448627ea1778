"""SLA timers: scheduled when a case enters a state with an `sla`, fired by `formflow tick`.

`schedule` writes one `due` timer (the state's `on_expire`) and one `reminder` per
`remind_before`. `tick` fires what is due. It is safe to run from cron on every node at
once: each timer is claimed in the database before anything happens (PostgreSQL:
`SELECT … FOR UPDATE SKIP LOCKED`; SQLite: a conditional UPDATE under the write lock that
BEGIN IMMEDIATE takes), so no timer ever fires twice, and each timer's work commits in its
own transaction, so one failure does not hold up the rest.

When timers fall due and which a case gets: `timer_scheduling.py`; what firing one does:
`timer_firing.py` (the names callers use are importable from here).
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from formflow import audit
from formflow.errors import Conflict
from formflow.extensions import db, utcnow
from formflow.workflows.models import Timer
from formflow.workflows.timer_firing import fire, timer_facts
from formflow.workflows.timer_scheduling import (
    DUE,
    REMINDER,
    Duration,
    due_at,
    parse_duration,
    schedule,
    shift,
    to_utc_naive,
)

#: what callers import from here (scheduling and firing live in the modules above)
__all__ = [
    "DUE",
    "JOBS",
    "REMINDER",
    "Duration",
    "TickError",
    "TickReport",
    "default_node",
    "due_at",
    "parse_duration",
    "pending",
    "schedule",
    "shift",
    "tick",
    "to_utc_naive",
]

log = logging.getLogger(__name__)

# --- the tick: claim each due timer, fire it, report -----------------------------------


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
                counter, outcome = fire(timer, now)
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
            audit.record("timer.error", "case", case_id, after={**timer_facts(timer), "outcome": outcome})
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


# --- the other scheduled jobs ----------------------------------------------------------

#: (module, function, whether it takes `now`): jobs of other modules run after the timers.
JOBS = (
    ("formflow.workflows.webhooks", "retry_webhooks", True),
    ("formflow.auth.services", "purge_login_records", True),
    ("formflow.records.uploads", "remove_orphan_uploads", True),
    ("formflow.ledger.statement_run", "issue_monthly_statements", True),
    ("formflow.billing.fee_run", "charge_fees", True),
    ("formflow.billing.reminders", "send_reminders", True),
    ("formflow.cases.screening", "screen_for_offboarding", True),
    # last: what the jobs above wrote goes out in the same tick
    ("formflow.workflows.notify", "send_pending_emails", False),
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
