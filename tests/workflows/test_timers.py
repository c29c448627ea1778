"""SLA timers: scheduled on entering a state, fired once by `tick` (escalation, automatic
action, reminders), skipped when the case has moved on or closed, failures recorded; the
`formflow tick` command."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from workflows.sla_support import load_world, new_case, user

from formflow.audit.models import AuditEntry
from formflow.errors import Conflict
from formflow.extensions import db
from formflow.forms.values import business_zone
from formflow.workflows import checklists, engine, timer_firing, timers
from formflow.workflows.models import Notification, Timer
from formflow.workflows.timers import Duration, parse_duration, shift

SHANGHAI_OFFSET = timedelta(hours=8)


@pytest.fixture
def world(app):
    with app.app_context():
        load_world()


def timers_of(case, state=None) -> list[Timer]:
    query = sa.select(Timer).where(Timer.case_id == case.id).order_by(Timer.fire_at, Timer.id)
    if state:
        query = query.where(Timer.state == state)
    return list(db.session.execute(query).scalars())


def audit_of(case, action) -> list[AuditEntry]:
    return list(
        db.session.execute(
            sa.select(AuditEntry)
            .where(AuditEntry.object_id == str(case.id), AuditEntry.action == action)
            .order_by(AuditEntry.seq)
        ).scalars()
    )


def notifications(case) -> list[Notification]:
    return list(
        db.session.execute(
            sa.select(Notification).where(Notification.case_id == case.id).order_by(Notification.id)
        ).scalars()
    )


def counts(report) -> tuple[int, int, int, int]:
    return report.fired, report.reminded, report.skipped, len(report.errors)


def to_notice(deadline: str | None):
    """A case at the notice state (due on `deadline`), its earlier timers moved past."""
    case = new_case({"reason": "x", **({"deadline": deadline} if deadline else {})})
    engine.perform(case, "evaluate", user("risk1"))
    engine.perform(case, "approve", user("mgr1"))
    assert case.state == "notice"
    db.session.commit()
    return case


# --- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, months, span",
    [
        ("PT48H", 0, timedelta(hours=48)),
        ("P30D", 0, timedelta(days=30)),
        ("P1M", 1, timedelta()),
        ("P2W", 0, timedelta(weeks=2)),
        ("P1Y2M3DT4H5M6S", 14, timedelta(days=3, hours=4, minutes=5, seconds=6)),
        ("PT90M", 0, timedelta(minutes=90)),
    ],
)
def test_iso_durations(text, months, span):
    assert parse_duration(text) == Duration(months, span)


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "48H", "P-1D", "P1.5D", "PT1H30", None, 48])
def test_not_iso_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_months_are_calendar_months_in_business_time(app_ctx):
    # 31 January 12:00 in Shanghai + 1 month: the last day of February, same time of day
    assert shift(datetime(2026, 1, 31, 4, 0), parse_duration("P1M")) == datetime(2026, 2, 28, 4, 0)
    # 31 March 02:00 in Shanghai is 30 March in UTC: the month counts on Shanghai's calendar
    assert shift(datetime(2026, 3, 30, 18, 0), parse_duration("P1M")) == datetime(2026, 4, 29, 18, 0)
    assert shift(datetime(2026, 3, 1), parse_duration("P1DT1H"), -1) == datetime(2026, 2, 27, 23, 0)


# --- scheduling ----------------------------------------------------------------------------


def test_entering_a_state_with_an_sla_schedules_the_due_time_and_reminders(world, app_ctx):
    case = new_case()
    entered = case.state_entered_at
    found = timers_of(case)
    assert [(t.kind, t.state, t.round, t.fire_at - entered) for t in found] == [
        ("reminder", "rectification", case.state_round, timedelta(days=27)),
        ("reminder", "rectification", case.state_round, timedelta(days=30) - timedelta(hours=1)),
        ("due", "rectification", case.state_round, timedelta(days=30)),
    ]
    assert all(t.fired_at is None and t.outcome == "" for t in found)
    [scheduled] = audit_of(case, "timer.schedule")
    assert scheduled.after["state"] == "rectification" and len(scheduled.after["reminders"]) == 2


def test_a_deadline_from_the_data_is_midnight_business_time(world, app_ctx):
    deadline = (date.today() + timedelta(days=90)).isoformat()
    case = to_notice(deadline)
    [due] = timers_of(case, "notice")
    assert due.kind == "due"
    assert due.fire_at + SHANGHAI_OFFSET == datetime.fromisoformat(deadline)  # 00:00 in Shanghai


def test_without_a_deadline_no_timer_and_the_history_says_why(world, app_ctx):
    case = to_notice(None)
    assert timers_of(case, "notice") == []
    [entry] = audit_of(case, "timer.not_scheduled")
    assert entry.after["state"] == "notice" and entry.after["reason"] == "no date in the data at /deadline"


def test_reminders_already_past_are_not_scheduled(world, app_ctx):
    case = new_case()
    now = datetime(2030, 1, 1, 0, 0)
    sla = {"due": "PT2H", "remind_before": ["PT4H", "PT1H"]}
    created = timers.schedule(case, case.state, {"sla": sla}, now)
    assert [(t.kind, t.fire_at) for t in created] == [
        ("reminder", datetime(2030, 1, 1, 1, 0)),
        ("due", datetime(2030, 1, 1, 2, 0)),
    ]
    assert timers.schedule(case, case.state, {"sla": sla}, now) == []  # scheduling twice adds nothing
    assert timers.schedule(case, case.state, {}, now) == []


# --- firing --------------------------------------------------------------------------------


def test_a_reminder_notifies_the_assignee_role_once(world, app_ctx):
    case = new_case()
    db.session.commit()
    at = case.state_entered_at + timedelta(days=27, seconds=1)
    assert counts(timers.tick(at, node="n1")) == (0, 1, 0, 0)
    [note] = notifications(case)
    assert (note.role, note.user_id) == ("risk", user("risk1").id)
    assert str(case.id) in note.subject
    assert counts(timers.tick(at, node="n1")) == (0, 0, 0, 0)  # idempotent
    assert len(notifications(case)) == 1
    [fired] = [t for t in timers_of(case) if t.fired_at is not None]
    assert (fired.kind, fired.claimed_by, fired.fired_at) == ("reminder", "n1", at)
    assert fired.outcome == "reminded role risk"


def test_at_the_end_of_the_period_the_case_moves_on_by_itself(world, app_ctx):
    case = new_case()
    db.session.commit()
    end = case.state_entered_at + timedelta(days=30)
    report = timers.tick(end)
    assert counts(report) == (1, 2, 0, 0)  # both reminders were due too
    db.session.expire_all()
    assert case.state == "evaluation"
    transition = audit_of(case, "case.transition")[-1]
    assert transition.after["action"] == "evaluate" and transition.actor_name == "system"
    assert audit_of(case, "case.action")[-1].after["system"] is True
    due = next(t for t in timers_of(case, "rectification") if t.kind == "due")
    assert due.outcome == "action evaluate: now at evaluation"
    # the evaluation's own SLA counts from the moment the timer moved the case
    evaluation = timers_of(case, "evaluation")
    assert [(t.kind, t.fire_at - end) for t in evaluation] == [
        ("reminder", timedelta(hours=44)),
        ("due", timedelta(hours=48)),
    ]
    assert counts(timers.tick(end)) == (0, 0, 0, 0)


def test_an_overdue_evaluation_is_escalated(world, app_ctx):
    case = new_case()
    engine.perform(case, "evaluate", user("risk1"))
    db.session.commit()
    overdue = case.state_entered_at + timedelta(hours=48)
    report = timers.tick(overdue)
    assert counts(report) == (1, 1, 0, 0)
    db.session.expire_all()
    assert case.state == "evaluation"  # escalation notifies; it does not move the case
    roles = [(n.role, n.user_id) for n in notifications(case)]
    assert ("manager", user("mgr1").id) in roles  # the reminder, to the assignee role
    assert ("admin", None) in roles  # nobody holds admin here: one row for the role
    [escalation] = audit_of(case, "case.escalate")
    assert escalation.after["role"] == "admin" and escalation.after["state"] == "evaluation"
    assert [e.after["outcome"] for e in audit_of(case, "timer.fire")] == [
        "reminded role manager",
        "escalated to admin",
    ]


def test_timers_of_a_state_the_case_has_left_do_nothing(world, app_ctx):
    case = new_case()
    engine.perform(case, "evaluate", user("risk1"))  # before the period ends
    db.session.commit()
    report = timers.tick(case.state_entered_at + timedelta(days=31))
    assert report.skipped == 3 and report.fired == 1  # the evaluation's due time passed too
    assert {t.outcome for t in timers_of(case, "rectification")} == {"skipped: the case has moved on"}
    db.session.expire_all()
    assert case.state == "evaluation"
    assert not [e for e in audit_of(case, "timer.fire") if e.after["state"] == "rectification"]


def test_timers_of_a_closed_case_do_nothing(world, app_ctx):
    case = new_case()
    engine.perform(case, "withdraw", user("risk1"))
    assert case.closed_at is not None
    db.session.commit()
    report = timers.tick(case.state_entered_at + timedelta(days=31))
    assert counts(report) == (0, 0, 3, 0)
    assert {t.outcome for t in timers_of(case)} == {"skipped: the case is closed"}
    assert notifications(case) == []


def test_a_timer_of_an_earlier_round_does_nothing(world, app_ctx):
    case = new_case()
    engine.perform(case, "evaluate", user("risk1"))
    first_round = case.state_round
    engine.perform(case, "return", user("mgr1"))
    engine.perform(case, "evaluate", user("risk1"))
    assert case.state == "evaluation" and case.state_round > first_round
    db.session.commit()
    report = timers.tick(case.state_entered_at + timedelta(hours=49))
    assert (report.fired, report.reminded, report.skipped) == (1, 1, 2)
    outcomes = {(t.round, t.kind): t.outcome for t in timers_of(case, "evaluation")}
    assert outcomes[(first_round, "due")] == "skipped: the case has moved on"
    assert outcomes[(case.state_round, "due")] == "escalated to admin"
    assert len(audit_of(case, "case.escalate")) == 1


def test_a_failing_timer_is_recorded_and_the_others_still_fire(world, app_ctx):
    deadline = (date.today() + timedelta(days=90)).isoformat()
    blocked, ready = to_notice(deadline), to_notice(deadline)
    checklists.tick(ready, "settle", user("fin1"))
    db.session.commit()
    at = datetime.fromisoformat(deadline) - SHANGHAI_OFFSET
    report = timers.tick(at)
    assert (report.fired, len(report.errors)) == (1, 1)
    [error] = report.errors
    assert error.case_id == blocked.id
    assert "检查清单" in error.message  # zh-CN, the default language: "the checklist"
    db.session.expire_all()
    assert (blocked.state, ready.state) == ("notice", "closed")
    [failed] = timers_of(blocked, "notice")
    assert failed.fired_at == at and failed.outcome.startswith("error: ")
    [entry] = audit_of(blocked, "timer.error")
    assert entry.after["outcome"] == failed.outcome
    assert counts(timers.tick(at)) == (0, 0, 0, 0)  # recorded as fired: not retried every tick


def test_a_concurrent_change_to_the_case_leaves_the_timer_for_the_next_tick(world, app_ctx, monkeypatch):
    case = new_case()
    db.session.commit()
    end = case.state_entered_at + timedelta(days=30)

    def conflict(*args, **kwargs):
        raise Conflict()

    monkeypatch.setattr(engine, "perform", conflict)
    report = timers.tick(end)
    assert report.fired == 0 and len(report.errors) == 1 and "next tick" in str(report.errors[0])
    due = next(t for t in timers_of(case) if t.kind == "due")
    assert due.fired_at is None and due.claimed_by is None
    monkeypatch.undo()
    assert timers.tick(end).fired == 1


def test_tick_runs_the_webhook_and_email_jobs_and_survives_their_failure(world, app_ctx, monkeypatch):
    from formflow.workflows import notify

    report = timers.tick()
    # other packages add their jobs too (auth: ended sessions and stale login counts)
    assert {"retry_webhooks", "send_pending_emails", "purge_login_records"} <= set(report.jobs)

    def broken(*args, **kwargs):
        raise RuntimeError("smtp exploded")

    monkeypatch.setattr(notify, "send_pending_emails", broken)
    report = timers.tick()
    assert [str(e) for e in report.errors] == ["send_pending_emails: smtp exploded"]


def test_an_aware_now_is_taken_as_such(world, app_ctx):
    case = new_case()
    db.session.commit()
    due = case.state_entered_at + timedelta(days=30)
    just_before = (due - timedelta(seconds=1)).replace(tzinfo=UTC).astimezone(business_zone())
    assert timers.tick(just_before).fired == 0
    assert timers.tick(due.replace(tzinfo=UTC)).fired == 1


# --- the command ---------------------------------------------------------------------------


def test_tick_now_in_business_time_fires_what_is_due(world, app, cli):
    deadline = (date.today() + timedelta(days=90)).isoformat()
    with app.app_context():
        case = to_notice(deadline)
        checklists.tick(case, "settle", user("fin1"))
        db.session.commit()
        case_id = case.id
    day_before = (datetime.fromisoformat(deadline) - timedelta(days=1)).isoformat()
    first = cli("tick", "--now", day_before)  # the rectification and evaluation timers: moved on
    assert first.exit_code == 0 and "0 fired, 0 reminded, 5 skipped, 0 failed" in first.output
    # naive means Shanghai: 23:59 on the eve of the deadline is not due yet, midnight is
    eve = cli("tick", "--now", f"{(datetime.fromisoformat(deadline) - timedelta(minutes=1)).isoformat()}")
    assert "0 fired" in eve.output
    result = cli("tick", "--now", f"{deadline}T00:00")
    assert result.exit_code == 0
    assert result.output.startswith(
        f"Tick at {deadline}T00:00:00+08:00: 1 fired, 0 reminded, 0 skipped, 0 failed"
    )
    with app.app_context():
        assert db.session.get(type(case), case_id).state == "closed"


def test_tick_lists_failed_timers_and_still_exits_0(world, app, cli):
    deadline = (date.today() + timedelta(days=90)).isoformat()
    with app.app_context():
        case_id = to_notice(deadline).id
    result = cli("tick", "--now", f"{deadline}T08:00:00+08:00")
    assert result.exit_code == 0
    assert "1 failed" in result.output
    assert "FAILED timer" in result.output and f"(case {case_id})" in result.output


def test_tick_shows_progress_for_many_timers(world, app, cli):
    with app.app_context():
        for _ in range(7):  # three timers each
            new_case()
        db.session.commit()
    result = cli("tick", "--now", (datetime.now() + timedelta(days=40)).isoformat())
    assert result.exit_code == 0 and "Timers" in result.output, result.output
    assert "7 fired, 14 reminded" in result.output


def test_tick_with_a_bad_now_is_a_usage_error(world, cli):
    result = cli("tick", "--now", "next tuesday")
    assert result.exit_code == 2 and "--now" in result.output


def test_tick_that_cannot_run_exits_1(world, cli, monkeypatch):
    def unreachable(now):
        raise sa.exc.OperationalError("SELECT", {}, Exception("database is down"))

    monkeypatch.setattr(timers, "pending", unreachable)
    result = cli("tick")
    assert result.exit_code == 1 and "tick failed" in result.output


# --- a period taken from the data; reminders that always reach someone -------------------------


@pytest.mark.parametrize(
    "days, expected",
    [
        (10, timedelta(days=10)),
        (Decimal("45"), timedelta(days=45)),
        (None, timedelta(days=30)),
        (0, timedelta(days=30)),
    ],
)
def test_a_period_in_days_from_the_data_sets_the_due_time(world, app_ctx, days, expected):
    case = new_case()
    case.data = {**case.data, **({"rectification_days": days} if days is not None else {})}
    now = datetime(2030, 1, 1, 0, 0)
    sla = {"due": {"field": "/rectification_days", "unit": "days", "default": "P30D"}}
    [due] = timers.schedule(case, "custom", {"sla": sla}, now)
    assert due.fire_at - now == expected  # an empty or unusable field falls back to the default


def test_the_offboarding_template_takes_its_rectification_period_from_the_form():
    import json
    from pathlib import Path

    spec = json.loads((Path(__file__).parents[2] / "configs" / "offboarding.json").read_text("utf-8"))
    due = spec["workflow"]["states"]["rectification"]["sla"]["due"]
    assert due["field"] == "/rectification_days" and due["unit"] == "days"
    assert "rectification_days" in spec["form"]["schema"]["properties"]


def test_a_reminder_at_a_step_without_assignee_goes_to_the_roles_that_act_there(world, app_ctx):
    case = new_case()
    db.session.commit()
    state = {"actions": {"go": {"to": "x", "roles": ["risk", "admin"]}}}
    timer = timers_of(case)[0]
    assert timer_firing.remind(case, state, timer) == "reminded roles risk"
    assert notifications(case)[-1].role == "risk"
    # nobody named anywhere: the case's owner hears of it
    assert timer_firing.remind(case, {"actions": {"go": {"to": "x"}}}, timer).startswith(
        "reminded the case's owner"
    )
    assert notifications(case)[-1].user_id == case.created_by_id
