"""Scheduling SLA timers: when a state's SLA falls due (ISO 8601 durations, dates and periods
from the data) and the `due` and `reminder` timers a case gets on entering the state.

Times are stored as naive UTC. A duration counts from the moment the case entered the state;
months and years are calendar months in the business time zone (P1M from 31 January ends on
the last day of February). A date from the data (`{"field": "/deadline"}`) means 00:00 of
that day in the business time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from formflow import audit
from formflow.extensions import db
from formflow.forms.pointers import resolve
from formflow.forms.values import business_zone
from formflow.rules.operators import add_months
from formflow.workflows.models import Timer

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
