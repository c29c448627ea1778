"""A case's history in words: each effect's sentence ("Sent the customer the notice …"), each
timer's outcome as people read it, and the small texts they share (a role, a field, a value)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow.customers.models import status_label
from formflow.extensions import db
from formflow.forms.texts import localized, spec_language
from formflow.i18n import join_list
from formflow.ledger.statements import posting_kind_label
from formflow.processes.titles import action_title, checklist_label, state_title
from formflow.workflows.models import NoticeDocument, Notification


class Words:
    """The titles of one process version's states, actions and checklist items."""

    def __init__(self, version):
        self.version = version

    def state(self, name: Any) -> str:
        return state_title(self.version, name) if name else "—"

    def action(self, name: Any, state: Any = None) -> str:
        return action_title(self.version, name, state if isinstance(state, str) else None)

    def item(self, item_id: Any, state: Any = None) -> str:
        return checklist_label(self.version, item_id, state if isinstance(state, str) else None)


# --- effects in words: effect name -> sentence (an effect without one: its name and state) --


def _notify_sentence(after: dict, outcome: dict, words: Words) -> str:
    config = after.get("config") if isinstance(after.get("config"), dict) else {}
    if outcome.get("to") == "customer" or config.get("to") == "customer":
        title = _notice_title(outcome.get("document")) or str(outcome.get("template") or "")
        return _("Sent the customer the notice “%(title)s”.", title=title)
    subject = _notification_subject(outcome.get("notifications"))
    to = _recipient(outcome.get("to", config.get("to")))
    if subject:
        return _("Notified %(to)s: %(subject)s", to=to, subject=subject)
    return _("Notified %(to)s.", to=to)


def _set_status_sentence(after: dict, outcome: dict, words: Words) -> str:
    return _(
        "Customer %(customer)s: status %(before)s → %(after)s.",
        customer=outcome.get("customer", ""),
        before=status_label(outcome.get("before")) or "—",
        after=status_label(outcome.get("after")) or "—",
    )


def _set_field_sentence(after: dict, outcome: dict, words: Words) -> str:
    return _(
        "Set %(field)s: %(before)s → %(after)s.",
        field=field_title(words.version, outcome.get("field", "")),
        before=value_text(outcome.get("before")),
        after=value_text(outcome.get("after")),
    )


def _start_case_sentence(after: dict, outcome: dict, words: Words) -> str:
    from formflow.processes.models import Process

    key = outcome.get("process")
    process = db.session.execute(sa.select(Process).where(Process.key == key)).scalar_one_or_none()
    name = process.name("en" if spec_language() == "en" else "zh_Hans_CN") if process else str(key or "")
    return _("Started case %(id)s (%(process)s).", id=outcome.get("case", "?"), process=name)


def _webhook_sentence(after: dict, outcome: dict, words: Words) -> str:
    if outcome.get("already_queued"):
        return _("Webhook already queued.")
    return _(
        "Webhook “%(event)s” queued for %(url)s.", event=outcome.get("event", ""), url=outcome.get("url", "")
    )


def _ledger_post_sentence(after: dict, outcome: dict, words: Words) -> str:
    config = after.get("config") if isinstance(after.get("config"), dict) else {}
    balances = outcome.get("balances") if isinstance(outcome.get("balances"), dict) else {}
    return _(
        "Posted %(kind)s of %(amount)s (posting %(journal)s); prepaid balance now %(balance)s.",
        kind=posting_kind_label(str(config.get("kind", ""))),
        amount=value_text(outcome.get("amount")),
        journal=outcome["journal"],
        balance=value_text(balances.get("prepaid")),
    )


def _ledger_reverse_sentence(after: dict, outcome: dict, words: Words) -> str:
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


def effect_sentence(after: dict, words: Words) -> str:
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
        return role_text(to["role"])
    if isinstance(to, dict) and (to.get("user") or to.get("field")):
        return str(to.get("user") or _("the user named in the form"))
    return str(to or "—")


def role_text(role: Any) -> str:
    from formflow.auth.permissions import ROLES

    return str(ROLES.get(role, role)) if isinstance(role, str) else str(role or "")


def field_title(version, pointer: str) -> str:
    from formflow.processes.form_rules import field_schema

    form = (version.spec or {}).get("form") or {}
    ui = form.get("uiSchema") or {}
    for token in [token for token in pointer.split("/") if token and token != "*"]:
        ui = ui.get(token) if isinstance(ui, dict) else {}
    title = localized(ui.get("ui:title")) if isinstance(ui, dict) else ""
    return title or localized(field_schema(form.get("schema") or {}, pointer).get("title")) or pointer


def value_text(value: Any) -> str:
    from formflow.forms.display import money_text

    if value is None or value == "":
        return "—"
    return money_text(value) if isinstance(value, Decimal) else str(value)


# --- timer outcomes in words: the texts timers.py stores (the log's own words) --------------

_TIMER_OUTCOMES: tuple[tuple[re.Pattern, Any], ...] = (
    (re.compile(r"skipped: the case is closed"), lambda m, w: _("skipped: the case is closed")),
    (re.compile(r"skipped: the case has moved on"), lambda m, w: _("skipped: the case has moved on")),
    (re.compile(r"overdue \(no on_expire\)"), lambda m, w: _("overdue (nothing is set to happen)")),
    (re.compile(r"escalated to (\S+)"), lambda m, w: _("escalated to %(role)s", role=role_text(m[1]))),
    (
        re.compile(r"action (\S+): now at (\S+)"),
        lambda m, w: _("“%(action)s” taken; now at %(state)s", action=w.action(m[1]), state=w.state(m[2])),
    ),
    (
        re.compile(r"reminded user (\d+)"),
        lambda m, w: _("reminded %(user)s", user=username_of(int(m[1])) or m[1]),
    ),
    (
        re.compile(r"reminded roles (.+)"),
        lambda m, w: _("reminded %(roles)s", roles=join_list(role_text(role) for role in m[1].split(", "))),
    ),
    (re.compile(r"reminded role (\S+)"), lambda m, w: _("reminded %(roles)s", roles=role_text(m[1]))),
    (
        re.compile(r"reminded the case's owner \(user (\d+)\)"),
        lambda m, w: _("reminded the case's owner %(user)s", user=username_of(int(m[1])) or m[1]),
    ),
    (re.compile(r"nobody to remind.*"), lambda m, w: _("nobody to remind (no assignee, no roles, no owner)")),
    (
        re.compile(r"no date in the data at (\S+)"),
        lambda m, w: _("no date in the form at %(field)s", field=field_title(w.version, m[1])),
    ),
    (re.compile(r"no due time"), lambda m, w: _("no due time")),
    (re.compile(r"error: (.*)", re.S), lambda m, w: _("failed: %(problem)s", problem=m[1])),
    (re.compile(r"reminded (\S+)"), lambda m, w: _("reminded %(user)s", user=m[1])),
)


def timer_outcome(text: Any, words: Words) -> str:
    """What a timer did, from the outcome timers.py recorded ("action evaluate: now at
    evaluation" -> "“评估” taken; now at 评估"); an outcome of another shape as it is."""
    text = str(text or "")
    for pattern, sentence in _TIMER_OUTCOMES:
        match = pattern.fullmatch(text)
        if match:
            return sentence(match, words)
    return text


def username_of(user_id: int | None) -> str | None:
    from formflow.auth.models import User

    user = db.session.get(User, user_id) if user_id else None
    return user.username if user else None
