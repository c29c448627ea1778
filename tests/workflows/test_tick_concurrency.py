"""Two nodes running `tick` at the same moment: every timer fires exactly once (each is
claimed in the database: FOR UPDATE SKIP LOCKED on PostgreSQL, a conditional UPDATE under
SQLite's write lock)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from workflows.sla_support import load_world, new_case

from formflow.audit import verify
from formflow.audit.models import AuditEntry
from formflow.cases.models import Case
from formflow.extensions import db
from formflow.workflows import timers
from formflow.workflows.models import Notification, Timer

CASES, NODES = 12, 3


@pytest.mark.live_db
def test_nodes_ticking_together_fire_each_timer_once(live_app):
    with live_app.app_context():
        load_world()
        started = [new_case() for _ in range(CASES)]
        db.session.commit()
        # every rectification period (two reminders and the due time each) has ended
        now = max(case.state_entered_at for case in started) + timedelta(days=30, seconds=1)
        total = db.session.execute(sa.select(sa.func.count()).select_from(Timer)).scalar_one()
        assert total == CASES * 3

    start = threading.Barrier(NODES)
    reports, failures = {}, []

    def node(name: str) -> None:
        try:
            with live_app.app_context():
                start.wait()
                reports[name] = timers.tick(now, node=name)
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=node, args=(f"node-{n}",)) for n in range(NODES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert failures == []
    assert all(not report.errors for report in reports.values()), [r.errors for r in reports.values()]
    assert sum(r.fired for r in reports.values()) == CASES
    assert sum(r.reminded for r in reports.values()) == CASES * 2
    assert sum(r.skipped for r in reports.values()) == 0

    with live_app.app_context():
        fired = list(db.session.execute(sa.select(Timer).where(Timer.state == "rectification")).scalars())
        assert len(fired) == CASES * 3
        assert all(t.fired_at == now and t.claimed_by in reports for t in fired)
        per_timer = Counter(
            entry.after["timer"]
            for entry in db.session.execute(
                sa.select(AuditEntry).where(AuditEntry.action == "timer.fire")
            ).scalars()
        )
        assert sorted(per_timer) == sorted(t.id for t in fired) and set(per_timer.values()) == {1}
        states = Counter(db.session.execute(sa.select(Case.state)).scalars())
        assert states == {"evaluation": CASES}
        transitions = db.session.execute(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "case.transition")
        ).scalar_one()
        assert transitions == CASES * 3  # start, submit and the timer's one move: nothing twice
        reminders = db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one()
        assert reminders == CASES * 2  # one risk user, two reminders per case
        assert verify().ok
        # and running it again finds nothing left to do
        again = timers.tick(now, node="late")
        assert (again.fired, again.reminded, again.skipped, again.errors) == (0, 0, 0, [])
