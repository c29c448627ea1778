"""A case's history: every transition, approval, comment, checklist tick, reassignment,
effect, notice and timer, oldest first.

The audit log is the source (entries on object "case" with the case's id); what the
workflow records beside it without an audit entry of its own (fired timers, notifications,
customer notices, webhook deliveries) joins in by time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow.audit.models import AuditEntry
from formflow.audit.services import SYSTEM_ACTOR
from formflow.customers.models import status_label
from formflow.extensions import db
from formflow.forms.texts import localized, spec_language
from formflow.i18n import join_list
from formflow.ledger.statements import posting_kind_label
from formflow.processes.titles import action_title, checklist_label, state_title
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
    #: the audit entry's seq (None for records outside the audit log)
    seq: int | None = None


def timeline(case) -> list[TimelineEntry]:
    """Everything that happened to `case`, oldest first, each as a sentence people read
    (states, actions and checklist items by their titles, effects and timers in words)."""
    words = _Words(case.version)
    entries = _from_audit(case, words)
    seen_kinds = {entry.kind for entry in entries}
    entries += _from_records(case, words, seen_kinds, _told_by_effects(entries))
    entries.sort(key=lambda e: (e.at, e.seq if e.seq is not None else float("inf")))
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


class _Words:
    """The titles of one process version's states, actions and checklist items."""

    def __init__(self, version):
        self.version = version

    def state(self, name: Any) -> str:
        return state_title(self.version, name) if name else "—"

    def action(self, name: Any, state: Any = None) -> str:
        return action_title(self.version, name, state if isinstance(state, str) else None)

    def item(self, item_id: Any, state: Any = None) -> str:
        return checklist_label(self.version, item_id, state if isinstance(state, str) else None)


def _kind(action: str) -> str:
    if action in KINDS:
        return KINDS[action]
    for prefix, kind in PREFIX_KINDS:
        if action.startswith(prefix):
            return kind
    return "other"


def _from_audit(case, words: _Words) -> list[TimelineEntry]:
    rows = list(
        db.session.execute(
            sa.select(AuditEntry)
            .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case.id))
            .order_by(AuditEntry.seq)
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
                seq=row.seq,
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


def _summary(kind: str, action: str, before: dict, after: dict, words: _Words) -> str:
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
            role=_role(after.get("role", "")),
        )
    details = after.get("effect") or after.get("template") or after.get("subject") or after.get("outcome")
    return f"{action}: {details}" if details else action


# --- effects in words: effect name -> sentence (an effect without one: its name and state) --


def _notify_sentence(after: dict, outcome: dict, words: _Words) -> str:
    config = after.get("config") if isinstance(after.get("config"), dict) else {}
    if outcome.get("to") == "customer" or config.get("to") == "customer":
        title = _notice_title(outcome.get("document")) or str(outcome.get("template") or "")
        return _("Sent the customer the notice “%(title)s”.", title=title)
    subject = _notification_subject(outcome.get("notifications"))
    to = _recipient(outcome.get("to", config.get("to")))
    if subject:
        return _("Notified %(to)s: %(subject)s", to=to, subject=subject)
    return _("Notified %(to)s.", to=to)


def _set_status_sentence(after: dict, outcome: dict, words: _Words) -> str:
    return _(
        "Customer %(customer)s: status %(before)s → %(after)s.",
        customer=outcome.get("customer", ""),
        before=status_label(outcome.get("before")) or "—",
        after=status_label(outcome.get("after")) or "—",
    )


def _set_field_sentence(after: dict, outcome: dict, words: _Words) -> str:
    return _(
        "Set %(field)s: %(before)s → %(after)s.",
        field=_field_title(words.version, outcome.get("field", "")),
        before=_value(outcome.get("before")),
        after=_value(outcome.get("after")),
    )


def _start_case_sentence(after: dict, outcome: dict, words: _Words) -> str:
    from formflow.processes.models import Process

    key = outcome.get("process")
    process = db.session.execute(sa.select(Process).where(Process.key == key)).scalar_one_or_none()
    name = process.name("en" if spec_language() == "en" else "zh_Hans_CN") if process else str(key or "")
    return _("Started case %(id)s (%(process)s).", id=outcome.get("case", "?"), process=name)


def _webhook_sentence(after: dict, outcome: dict, words: _Words) -> str:
    if outcome.get("already_queued"):
        return _("Webhook already queued.")
    return _(
        "Webhook “%(event)s” queued for %(url)s.", event=outcome.get("event", ""), url=outcome.get("url", "")
    )


def _ledger_post_sentence(after: dict, outcome: dict, words: _Words) -> str:
    config = after.get("config") if isinstance(after.get("config"), dict) else {}
    balances = outcome.get("balances") if isinstance(outcome.get("balances"), dict) else {}
    return _(
        "Posted %(kind)s of %(amount)s (posting %(journal)s); prepaid balance now %(balance)s.",
        kind=posting_kind_label(str(config.get("kind", ""))),
        amount=_value(outcome.get("amount")),
        journal=outcome["journal"],
        balance=_value(balances.get("prepaid")),
    )


def _ledger_reverse_sentence(after: dict, outcome: dict, words: _Words) -> str:
    reversals = outcome.get("reversals") if isinstance(outcome.get("reversals"), list) else []
    if not reversals:
        return _("Nothing of this case was left to reverse.")
    return _("Reversed this case's postings (reversal %(ids)s).", ids=", ".join(str(i) for i in reversals))


EFFECT_SENTENCES = {
    "ledger.post": _ledger_post_sentence,
    "ledger.reverse": _ledger_reverse_sentence,
    "notify": _notify_sentence,
    "customer.set_status": _set_status_sentence,
    "set_field": _set_field_sentence,
    "start_case": _start_case_sentence,
    "webhook": _webhook_sentence,
}


def effect_sentence(after: dict, words: _Words) -> str:
    """A `case.effect` audit entry as a sentence ("Sent the customer the notice “…”")."""
    outcome = after.get("outcome") if isinstance(after.get("outcome"), dict) else {}
    describe = EFFECT_SENTENCES.get(after["effect"])
    if describe is not None:
        try:
            return describe(after, outcome, words)
        except (KeyError, TypeError, ValueError):
            pass  # an entry of another shape: said the plain way below
    return _(
        "Effect “%(effect)s” at %(state)s.", effect=after["effect"], state=words.state(after.get("state"))
    )


def _notice_title(document_id: Any) -> str:
    document = db.session.get(NoticeDocument, document_id) if isinstance(document_id, int) else None
    return document.title if document else ""


def _notification_subject(ids: Any) -> str:
    first = ids[0] if isinstance(ids, list) and ids and isinstance(ids[0], int) else None
    note = db.session.get(Notification, first) if first is not None else None
    return note.subject if note else ""


def _recipient(to: Any) -> str:
    """Whom a notify effect addressed, as people say it."""
    if to == "initiator":
        return _("whoever started the case")
    if isinstance(to, dict) and to.get("role"):
        return _role(to["role"])
    if isinstance(to, dict) and (to.get("user") or to.get("field")):
        return str(to.get("user") or _("the user named in the form"))
    return str(to or "—")


def _role(role: Any) -> str:
    from formflow.auth.permissions import ROLES

    return str(ROLES.get(role, role)) if isinstance(role, str) else str(role or "")


def _field_title(version, pointer: str) -> str:
    from formflow.processes.form_rules import field_schema

    form = (version.spec or {}).get("form") or {}
    ui = form.get("uiSchema") or {}
    for token in [token for token in pointer.split("/") if token and token != "*"]:
        ui = ui.get(token) if isinstance(ui, dict) else {}
    title = localized(ui.get("ui:title")) if isinstance(ui, dict) else ""
    return title or localized(field_schema(form.get("schema") or {}, pointer).get("title")) or pointer


def _value(value: Any) -> str:
    from formflow.forms.display import money_text

    if value is None or value == "":
        return "—"
    return money_text(value) if isinstance(value, Decimal) else str(value)


# --- timer outcomes in words: the texts timers.py stores (the log's own words) --------------

_TIMER_OUTCOMES: tuple[tuple[re.Pattern, Any], ...] = (
    (re.compile(r"skipped: the case is closed"), lambda m, w: _("skipped: the case is closed")),
    (re.compile(r"skipped: the case has moved on"), lambda m, w: _("skipped: the case has moved on")),
    (re.compile(r"overdue \(no on_expire\)"), lambda m, w: _("overdue (nothing is set to happen)")),
    (re.compile(r"escalated to (\S+)"), lambda m, w: _("escalated to %(role)s", role=_role(m[1]))),
    (
        re.compile(r"action (\S+): now at (\S+)"),
        lambda m, w: _("“%(action)s” taken; now at %(state)s", action=w.action(m[1]), state=w.state(m[2])),
    ),
    (
        re.compile(r"reminded user (\d+)"),
        lambda m, w: _("reminded %(user)s", user=_username(int(m[1])) or m[1]),
    ),
    (
        re.compile(r"reminded roles (.+)"),
        lambda m, w: _("reminded %(roles)s", roles=join_list(_role(role) for role in m[1].split(", "))),
    ),
    (re.compile(r"reminded role (\S+)"), lambda m, w: _("reminded %(roles)s", roles=_role(m[1]))),
    (
        re.compile(r"reminded the case's owner \(user (\d+)\)"),
        lambda m, w: _("reminded the case's owner %(user)s", user=_username(int(m[1])) or m[1]),
    ),
    (re.compile(r"nobody to remind.*"), lambda m, w: _("nobody to remind (no assignee, no roles, no owner)")),
    (
        re.compile(r"no date in the data at (\S+)"),
        lambda m, w: _("no date in the form at %(field)s", field=_field_title(w.version, m[1])),
    ),
    (re.compile(r"no due time"), lambda m, w: _("no due time")),
    (re.compile(r"error: (.*)", re.S), lambda m, w: _("failed: %(problem)s", problem=m[1])),
    (re.compile(r"reminded (\S+)"), lambda m, w: _("reminded %(user)s", user=m[1])),
)


def timer_outcome(text: Any, words: _Words) -> str:
    """What a timer did, from the outcome timers.py recorded ("action evaluate: now at
    evaluation" -> "“评估” taken; now at 评估"); an outcome of another shape as it is."""
    text = str(text or "")
    for pattern, sentence in _TIMER_OUTCOMES:
        match = pattern.fullmatch(text)
        if match:
            return sentence(match, words)
    return text


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
    case, words: _Words, seen_kinds: set[str], told: dict[str, set[int]] | None = None
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
            to = _role(note.role) if note.role else (_username(note.user_id) or "")
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


def _username(user_id: int | None) -> str | None:
    from formflow.auth.models import User

    user = db.session.get(User, user_id) if user_id else None
    return user.username if user else None
