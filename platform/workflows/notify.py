"""Notifications: the `notify` effect, customer notice documents, e-mail, and what the
notifications page reads.

Notice templates (`workflow.notices`) render in the sandbox of formflow.notices, as plain
text; HTML exists only where the text is shown (the page's autoescape, or the e-mail's HTML
part, built by escaping), so a template can never inject markup. The effect registers in
formflow.effects on import (the app factory imports this module).

E-mail is never sent inside the action's transaction: a notification row waits with
`emailed_at` NULL and `send_pending_emails` (called by `formflow tick`) sends it."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from formflow import audit
from formflow.auth.models import User, UserRole
from formflow.auth.permissions import ROLES
from formflow.billing import reminders
from formflow.effects import LOGIC_SCHEMA, POINTER_SCHEMA, EffectContext, effect
from formflow.errors import Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.forms.pointers import resolve
from formflow.forms.texts import SPEC_LANGUAGES, localized
from formflow.ledger import alerts, statement_run
from formflow.ledger.balances import account_context
from formflow.notices import CUSTOMER_SECTIONS, check_notices, render_notice
from formflow.workflows.email_sending import EMAIL_MAX_AGE, EmailReport, html_body, send_pending_emails
from formflow.workflows.models import NoticeDocument, Notification

#: e-mail lives in email_sending.py; its names stay importable from here
__all__ = ["EMAIL_MAX_AGE", "EmailReport", "html_body", "send_pending_emails"]


#: "customer", "initiator", or exactly one of {"role"}, {"user"}, {"field"} (if/then rather
#: than anyOf: a wrong role is then reported at /to/role, not as "matches no alternative").
RECIPIENT_SCHEMA = {
    "if": {"type": "object"},
    "then": {
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "properties": {
            "role": {"enum": list(ROLES)},
            "user": {"type": "string", "minLength": 1, "maxLength": 80},
            "field": POINTER_SCHEMA,
        },
    },
    "else": {"enum": ["customer", "initiator"]},
}


# --- rendering ---------------------------------------------------------------------------------


def notice_values(case) -> dict:
    """What a template's placeholders see; copies, so nothing reaches back into the case."""
    spec = case.version.spec or {}
    return {
        "case": {
            "id": case.id,
            "state": case.state,
            "round": case.state_round,
            "process": case.process.key,
            "version": case.version.number,
        },
        "data": copy.deepcopy(case.data or {}),
        "customer": case.customer.snapshot(),
        "account": account_context(case.customer),  # balances after this step's postings
        "process": {
            "key": case.process.key,
            "version": case.version.number,
            "name": spec.get("name") if isinstance(spec.get("name"), dict | str) else case.process.key,
        },
    }


def _localize_process(values: dict, language: str) -> dict:
    return {
        **values,
        "process": {**values["process"], "name": localized(values["process"]["name"], language)},
    }


# --- the effect -------------------------------------------------------------------------------


def _check_notify(config: dict, spec: dict) -> list[dict]:
    workflow = spec.get("workflow") if isinstance(spec.get("workflow"), dict) else {}
    notices = workflow.get("notices") if isinstance(workflow.get("notices"), dict) else {}
    notice = notices.get(config["template"])
    if not isinstance(notice, dict):
        known = ", ".join(sorted(notices)) or "—"
        message = _(
            "No notice template “%(key)s” in workflow.notices (there are: %(known)s).",
            key=config["template"],
            known=known,
        )
        return [{"pointer": "/template", "message": message}]
    problems = []
    if config["to"] == "customer":
        sections = notice.get("sections") if isinstance(notice.get("sections"), dict) else {}
        missing = [name for name in CUSTOMER_SECTIONS if not sections.get(name)]
        if missing:
            message = _(
                "A notice to the customer must state the reasons, amounts, the customer's rights, "
                "how to appeal and whom to contact: add sections %(missing)s to notice “%(key)s”.",
                missing=", ".join(missing),
                key=config["template"],
            )
            problems.append({"pointer": "/template", "message": message})
    for problem in check_notices({"notices": {config["template"]: notice}}):
        problems.append({"pointer": "/template", "message": f"{problem['pointer']}: {problem['message']}"})
    if isinstance(config["to"], dict) and "field" in config["to"]:
        from formflow.processes.form_rules import field_schema

        form = spec.get("form") if isinstance(spec.get("form"), dict) else {}
        if not field_schema(form.get("schema") or {}, config["to"]["field"]):
            message = _("The form has no field %(field)s.", field=config["to"]["field"])
            problems.append({"pointer": "/to/field", "message": message})
    return problems


@effect(
    "notify",
    schema={
        "required": ["to", "template"],
        "properties": {
            "to": RECIPIENT_SCHEMA,
            "template": {"type": "string", "minLength": 1, "maxLength": 80},
            # the language of the text: "zh-CN" (default), "en", or JSONLogic giving one
            "language": LOGIC_SCHEMA,
        },
    },
    logic=("/language",),
    check=_check_notify,
)
def notify(ctx: EffectContext, config: dict) -> dict:
    """In-app notifications (one per user; a role's holders each get theirs) e-mailed later
    by `send_pending_emails`, or, to the customer, a stored notice document."""
    notice = (ctx.workflow.get("notices") or {}).get(config["template"])
    if not isinstance(notice, dict):
        message = _("No notice template “%(key)s” in workflow.notices.", key=config["template"])
        raise Invalid([{"pointer": "/template", "message": message}])
    language = ctx.value(config.get("language")) or "zh-CN"
    if language not in SPEC_LANGUAGES:
        message = _("Unknown language %(language)s; use zh-CN or en.", language=language)
        raise Invalid([{"pointer": "/language", "message": message}])
    values = _localize_process(notice_values(ctx.case), language)
    rendered = render_notice(notice, values, language)
    outcome = {"template": config["template"], "language": language, "to": config["to"]}
    if config["to"] == "customer":
        document = NoticeDocument(
            case_id=ctx.case.id,
            customer_id=ctx.case.customer_id,
            template=config["template"],
            language=language,
            title=rendered.subject,
            body=rendered.document,
            created_at=ctx.now,
        )
        db.session.add(document)
        db.session.flush()
        return {**outcome, "document": document.id}
    rows = [
        Notification(
            user_id=user.id if user is not None else None,
            role=role,
            case_id=ctx.case.id,
            subject=rendered.subject,
            body=rendered.document,
            created_at=ctx.now,
        )
        for user, role in _recipients(ctx, config["to"])
    ]
    db.session.add_all(rows)
    db.session.flush()
    return {**outcome, "notifications": [row.id for row in rows]}


def _recipients(ctx: EffectContext, to: Any) -> list[tuple[User | None, str | None]]:
    """(user, role) pairs; a role nobody holds gets one row for the role itself, so the
    first person given the role still sees it."""
    if isinstance(to, dict) and "role" in to:
        holders = db.session.execute(
            sa.select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == to["role"], User.active.is_(True))
            .order_by(User.id)
        ).scalars()
        return [(user, to["role"]) for user in holders] or [(None, to["role"])]
    if to == "initiator":
        user = db.session.get(User, ctx.case.created_by_id) if ctx.case.created_by_id else None
        if user is None:
            raise Invalid([{"pointer": "/to", "message": _("The case has no initiator to notify.")}])
        return [(user, None)]
    if "field" in to:
        username = resolve(ctx.case.data or {}, to["field"])
        if not isinstance(username, str) or not username.strip():
            message = _("%(field)s names nobody to notify.", field=to["field"])
            raise Invalid([{"pointer": "/to/field", "message": message}])
        pointer = "/to/field"
    else:
        username, pointer = to["user"], "/to/user"
    user = db.session.execute(sa.select(User).where(User.username == username.strip())).scalar_one_or_none()
    if user is None:
        raise Invalid([{"pointer": pointer, "message": _("No user %(name)s to notify.", name=username)}])
    return [(user, None)]


# --- reading and marking (the notifications page) ---------------------------------------------


def _visible_to(user):
    """A user's own notifications, and those addressed to a role of theirs nobody held."""
    return sa.or_(
        Notification.user_id == user.id,
        sa.and_(Notification.user_id.is_(None), Notification.role.in_(user.role_names)),
    )


def unread_count(user) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(_visible_to(user), Notification.read_at.is_(None))
    ).scalar_one()


def page(user, *, before: int | None, size: int) -> tuple[list[Notification], int | None]:
    """Newest first, keyset-paginated on id; the rows and the next cursor (None at the end)."""
    query = sa.select(Notification).where(_visible_to(user))
    if before is not None:
        query = query.where(Notification.id < before)
    rows = list(db.session.execute(query.order_by(Notification.id.desc()).limit(size + 1)).scalars())
    return rows[:size], (rows[size - 1].id if len(rows) > size else None)


def get_visible(notification_id: int, user) -> Notification:
    found = (
        db.session.execute(
            sa.select(Notification).where(Notification.id == notification_id, _visible_to(user))
        ).scalar_one_or_none()
        if 0 < notification_id < 2**63
        else None
    )
    if found is None:
        raise NotFound(_("No such notification."))
    return found


def mark_read(notification_id: int, user, now: datetime | None = None) -> Notification:
    notification = get_visible(notification_id, user)
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        db.session.flush()
        audit.record(
            "notification.read",
            "notification",
            notification.id,
            after={"read_at": notification.read_at},
            actor=user,
        )
    return notification


def mark_all_read(user, now: datetime | None = None) -> int:
    now = now or utcnow()
    ids = list(
        db.session.execute(
            sa.select(Notification.id).where(_visible_to(user), Notification.read_at.is_(None))
        ).scalars()
    )
    if ids:
        db.session.execute(sa.update(Notification).where(Notification.id.in_(ids)).values(read_at=now))
        audit.record("notification.read_all", "user", user.id, after={"notifications": ids}, actor=user)
    return len(ids)


# --- low-balance alerts ------------------------------------------------------------------------


@alerts.listen
def tell_staff_of_low_balance(alert) -> None:
    """A customer's prepaid balance fell below its threshold: the staff hear of it in the app
    (and by e-mail when SMTP is configured), in the business language."""
    customer = alert.customer
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):
        subject = _("Low prepaid balance: %(name)s (%(code)s)", name=customer.name, code=customer.code)
        body = _(
            "The prepaid balance of %(name)s is %(balance)s, below its threshold of %(threshold)s.",
            name=customer.name,
            balance=f"{alert.balance_after:,.2f}",
            threshold=f"{alert.threshold:,.2f}",
        )
    db.session.add(Notification(role="staff", subject=subject[:300], body=body))


# --- monthly statements ------------------------------------------------------------------------


@statement_run.listen
def tell_staff_of_statements(customer, issues) -> None:
    """A customer's monthly statements were issued (ledger.statement_run): the staff hear of it
    once per customer and period, in the business language, each statement's numbers listed."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):
        subject = _(
            "Statements for %(period)s issued: %(name)s (%(code)s)",
            period=issues[0].period,
            name=customer.name,
            code=customer.code,
        )
    body = "\n\n".join(f"{issue.title}\n{issue.body}" for issue in issues)
    db.session.add(Notification(role="staff", subject=subject[:300], body=body))


# --- payment reminders -------------------------------------------------------------------------


@reminders.listen
def tell_of_reminder(reminder) -> None:
    """A payment reminder (billing.reminders): finance hears of it in the app, the customer's
    first contact with an address gets it by e-mail, and the role it escalates to (after the
    last reminder) is told — each e-mailed by `send_pending_emails` when SMTP is configured."""
    customer = reminder.customer
    rows = [Notification(role="finance", subject=reminder.title, body=reminder.body)]
    address = next((contact.email for contact in customer.contacts if contact.email), None)
    if address:
        rows.append(Notification(email=address, subject=reminder.title, body=reminder.body))
    if reminder.escalated_to:
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):
            subject = _(
                "Still unpaid after the last reminder: %(name)s (%(code)s), %(number)s",
                name=customer.name,
                code=customer.code,
                number=reminder.invoice.number,
            )
        rows.append(Notification(role=reminder.escalated_to, subject=subject[:300], body=reminder.body))
    db.session.add_all(rows)
