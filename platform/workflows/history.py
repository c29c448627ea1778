"""A case's history: every transition, approval, comment, checklist tick, reassignment,
effect, notice and timer, oldest first.

The audit log is the source (entries on object "case" with the case's id); what the
workflow records beside it without an audit entry of its own (fired timers, notifications,
customer notices, webhook deliveries) joins in by time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow.audit.models import AuditEntry
from formflow.audit.services import SYSTEM_ACTOR
from formflow.extensions import db
from formflow.workflows.history_words import (
    Words,
    effect_sentence,
    role_text,
    timer_outcome,
    username_of,
)
from formflow.workflows.models import NoticeDocument, Notification, Timer, WebhookDelivery

#: audit action -> timeline kind (anything else on the case is "other")
KINDS = {
    "case.create": "created",
    "case.update": "updated",
    "case.submit": "submitted",
    "case.transition": "transition",
    "case.approve": "approval",
    "case.reject": "rejection",
    "case.action": "action",
    "case.reassign": "reassignment",
    "case.comment": "comment",
    "checklist.tick": "checklist",
    "checklist.untick": "checklist",
    "case.effect": "effect",
    "case.overdue": "timer",
    "case.escalate": "timer",
}
#: audit actions of these prefixes are effects, notices and timers written on the case
PREFIX_KINDS = (
    ("case.effect", "effect"),
    ("effect.", "effect"),
    ("case.notice", "notice"),
    ("notice.", "notice"),
    ("case.notify", "notification"),
    ("notification.", "notification"),
    ("case.timer", "timer"),
    ("timer.", "timer"),
    ("case.webhook", "webhook"),
    ("webhook.", "webhook"),
)


@dataclass
class TimelineEntry:
    at: datetime
    #: created, updated, submitted, transition, approval, rejection, action, reassignment,
    #: comment, checklist, effect, notice, notification, timer, webhook, other
    kind: str
    #: the audit action (e.g. "case.transition") or the record it comes from ("timer")
    action: str
    actor: str | None
    summary: str
    comment: str = ""
    data: dict = field(default_factory=dict)
    #: the audit entry's id, the order it was written in (None for records outside the audit log)
    audit_id: int | None = None


def timeline(case) -> list[TimelineEntry]:
    """Everything that happened to `case`, oldest first, each as a sentence people read
    (states, actions and checklist items by their titles, effects and timers in words)."""
    words = Words(case.version)
    entries = _from_audit(case, words)
    seen_kinds = {entry.kind for entry in entries}
    entries += _from_records(case, words, seen_kinds, _told_by_effects(entries))
    entries.sort(key=lambda e: (e.at, e.audit_id if e.audit_id is not None else float("inf")))
    return entries


def as_json(entry: TimelineEntry) -> dict:
    return {
        "at": entry.at.isoformat(timespec="seconds") + "Z",
        "kind": entry.kind,
        "action": entry.action,
        "actor": entry.actor,
        "summary": entry.summary,
        "comment": entry.comment,
        "data": entry.data,
    }


def _kind(action: str) -> str:
    if action in KINDS:
        return KINDS[action]
    for prefix, kind in PREFIX_KINDS:
        if action.startswith(prefix):
            return kind
    return "other"


def _from_audit(case, words: Words) -> list[TimelineEntry]:
    rows = list(
        db.session.execute(
            sa.select(AuditEntry)
            .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case.id))
            .order_by(AuditEntry.id)
        ).scalars()
    )
    entries = []
    for index, row in enumerate(rows):
        if row.action == "case.action" and _told_elsewhere(rows, index):
            continue
        before = row.before if isinstance(row.before, dict) else {}
        after = row.after if isinstance(row.after, dict) else {}
        kind = _kind(row.action)
        comment = str(after.get("comment") or "")
        if kind == "transition" and index > 0 and _kind(rows[index - 1].action) in ("approval", "rejection"):
            comment = ""  # already shown with the decision that caused the move
        entries.append(
            TimelineEntry(
                at=row.at,
                kind=kind,
                action=row.action,
                actor=_actor(row),
                summary=_summary(kind, row.action, before, after, words),
                comment=comment,
                data={"before": row.before, "after": row.after},
                audit_id=row.id,
            )
        )
    return entries


def _told_elsewhere(rows: list[AuditEntry], index: int) -> bool:
    """A `case.action` entry next to the approval/rejection/transition it caused says
    nothing new."""
    action = rows[index]
    neighbours = rows[max(0, index - 1) : index] + rows[index + 1 : index + 2]
    return any(
        other.actor_id == action.actor_id and _kind(other.action) in ("approval", "rejection", "transition")
        for other in neighbours
    )


def _actor(row: AuditEntry) -> str | None:
    """Who did it: their name, or "System" for the engine's own steps (timers, effects)."""
    if row.actor_id is None and row.actor_name == SYSTEM_ACTOR:
        return _("System")
    return row.actor_name


def _summary(kind: str, action: str, before: dict, after: dict, words: Words) -> str:
    state = after.get("state")
    if kind == "created":
        return _("Case created.")
    if kind == "updated":
        return _("Data changed.")
    if kind == "submitted":
        return _("Submitted.")
    if kind == "transition" and not after.get("action"):
        # entering the start state (or a move made without an action)
        return _("Entered %(state)s.", state=words.state(state))
    if kind == "transition":
        text = _(
            "%(from)s → %(to)s",
            **{"from": words.state(before.get("state")), "to": words.state(state)},
        )
        return text + " " + _("(by “%(action)s”)", action=words.action(after["action"], before.get("state")))
    if kind == "approval":
        return _("Approved at %(state)s.", state=words.state(state))
    if kind == "rejection":
        return _("Rejected at %(state)s.", state=words.state(state))
    if kind == "action":
        return _("Action “%(action)s”.", action=words.action(after.get("action", ""), state))
    if kind == "reassignment":
        if after.get("assigned_to"):
            return _("Reassigned to %(user)s.", user=after["assigned_to"])
        return _("Reassignment removed: back to the step's assignee.")
    if kind == "checklist":
        item = words.item(after.get("item", ""), state)
        if action == "checklist.untick":
            return _("Checklist item “%(item)s” unticked.", item=item)
        note = after.get("note")
        text = _("Checklist item “%(item)s” ticked.", item=item)
        return f"{text} {note}" if note else text
    if kind == "effect" and after.get("effect"):
        return effect_sentence(after, words)
    if action == "timer.schedule":
        return _(
            "Due time of %(state)s set: %(due)s", state=words.state(state), due=_moment(after.get("due"))
        )
    if action == "timer.not_scheduled":
        return _(
            "No due time for %(state)s: %(reason)s",
            state=words.state(state),
            reason=timer_outcome(after.get("reason", ""), words),
        )
    if action in ("timer.fire", "timer.error"):
        what = _("Reminder") if after.get("kind") == "reminder" else _("Due time")
        return _(
            "%(what)s of %(state)s reached: %(outcome)s",
            what=what,
            state=words.state(state),
            outcome=timer_outcome(after.get("outcome", ""), words),
        )
    if action == "case.overdue":
        return _("Overdue at %(state)s.", state=words.state(state))
    if action == "case.escalate":
        return _(
            "Overdue at %(state)s: escalated to %(role)s.",
            state=words.state(state),
            role=role_text(after.get("role", "")),
        )
    details = after.get("effect") or after.get("template") or after.get("subject") or after.get("outcome")
    return f"{action}: {details}" if details else action


def _webhook_status(status: str) -> str:
    return {"pending": _("waiting"), "delivered": _("sent"), "failed": _("failed")}.get(status, status)


def _moment(value: Any) -> str:
    """An ISO time stored in the audit log (naive UTC) in the user's time zone."""
    from flask_babel import format_datetime

    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    try:
        return format_datetime(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment, "short")
    except RuntimeError:  # outside a request
        return moment.isoformat(timespec="minutes")


def _told_by_effects(entries: list[TimelineEntry]) -> dict[str, set[int]]:
    """The notices and notifications effect entries already tell of (a webhook delivery's
    own entry still says how its sending went)."""
    told: dict[str, set[int]] = {"notice": set(), "notification": set()}
    for entry in entries:
        after = (entry.data.get("after") or {}) if entry.kind == "effect" else {}
        outcome = after.get("outcome") if isinstance(after, dict) else None
        if not isinstance(outcome, dict):
            continue
        if isinstance(outcome.get("document"), int):
            told["notice"].add(outcome["document"])
        told["notification"].update(n for n in outcome.get("notifications") or [] if isinstance(n, int))
    return told


def _from_records(
    case, words: Words, seen_kinds: set[str], told: dict[str, set[int]] | None = None
) -> list[TimelineEntry]:
    """Timers, notifications, notices and webhooks that have no audit entry of their own
    (nor an effect entry that tells of them: `told`)."""
    told = told or {}
    entries: list[TimelineEntry] = []
    if "timer" not in seen_kinds:
        timers = db.session.execute(
            sa.select(Timer)
            .where(Timer.case_id == case.id, Timer.fired_at.is_not(None))
            .order_by(Timer.fired_at)
        ).scalars()
        for timer in timers:
            kind_text = _("Due time") if timer.kind == "due" else _("Reminder")
            summary = _("%(kind)s of %(state)s fired", kind=kind_text, state=words.state(timer.state))
            entries.append(
                TimelineEntry(
                    at=timer.fired_at,
                    kind="timer",
                    action=f"timer.{timer.kind}",
                    actor=None,
                    summary=f"{summary}: {timer_outcome(timer.outcome, words)}"
                    if timer.outcome
                    else summary + ".",
                    data={"state": timer.state, "round": timer.round, "fire_at": timer.fire_at.isoformat()},
                )
            )
    if "notification" not in seen_kinds:
        for note in db.session.execute(
            sa.select(Notification).where(Notification.case_id == case.id).order_by(Notification.id)
        ).scalars():
            if note.id in told.get("notification", ()):
                continue
            to = role_text(note.role) if note.role else (username_of(note.user_id) or "")
            entries.append(
                TimelineEntry(
                    at=note.created_at,
                    kind="notification",
                    action="notification",
                    actor=None,
                    summary=_("Notified %(to)s: %(subject)s", to=to, subject=note.subject),
                    data={"to": to, "subject": note.subject},
                )
            )
    if "notice" not in seen_kinds:
        for notice in db.session.execute(
            sa.select(NoticeDocument).where(NoticeDocument.case_id == case.id).order_by(NoticeDocument.id)
        ).scalars():
            if notice.id in told.get("notice", ()):
                continue
            entries.append(
                TimelineEntry(
                    at=notice.created_at,
                    kind="notice",
                    action="notice",
                    actor=None,
                    summary=_("Sent the customer the notice “%(title)s”.", title=notice.title),
                    data={"template": notice.template, "language": notice.language, "id": notice.id},
                )
            )
    if "webhook" not in seen_kinds:
        for delivery in db.session.execute(
            sa.select(WebhookDelivery).where(WebhookDelivery.case_id == case.id).order_by(WebhookDelivery.id)
        ).scalars():
            entries.append(
                TimelineEntry(
                    at=delivery.created_at,
                    kind="webhook",
                    action="webhook",
                    actor=None,
                    summary=_(
                        "Webhook %(event)s to %(url)s: %(status)s",
                        event=delivery.event,
                        url=delivery.url,
                        status=_webhook_status(delivery.status),
                    ),
                    data={"event": delivery.event, "status": delivery.status, "attempts": delivery.attempts},
                )
            )
    return entries
