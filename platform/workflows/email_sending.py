"""E-mailing in-app notifications after the commit (`formflow tick`): claimed one by one so
two nodes never send one twice, older ones left alone, each as text and HTML."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup, escape

from formflow import audit
from formflow.auth.models import User
from formflow.extensions import db, utcnow
from formflow.workflows.models import Notification

log = logging.getLogger(__name__)

#: Notifications older than this are no longer e-mailed (SMTP switched on later, or down for
#: long: nobody wants last month's reminders in one burst).
EMAIL_MAX_AGE = timedelta(days=2)
SMTP_TIMEOUT = 10


# --- e-mail -----------------------------------------------------------------------------------


@dataclass
class EmailReport:
    sent: int = 0
    failed: int = 0
    #: why nothing was tried ("" when SMTP is configured)
    skipped: str = ""


def send_pending_emails(now: datetime | None = None, *, limit: int = 200) -> EmailReport:
    """E-mail the in-app notifications not yet e-mailed (recipients with an address), when
    FORMFLOW_SMTP_HOST is set. Called by `formflow tick`; commits as it goes, so call it
    outside any other unit of work.

    Each notification is claimed first (`UPDATE … WHERE emailed_at IS NULL`, committed), so
    nodes running tick together never send one twice; a failed send releases the claim and
    the next tick tries again (until EMAIL_MAX_AGE)."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        return EmailReport(skipped="FORMFLOW_SMTP_HOST is not set")
    now = now or utcnow()
    to_users = (
        sa.select(Notification.id, User.email)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.emailed_at.is_(None),
            Notification.email.is_(None),
            Notification.created_at >= now - EMAIL_MAX_AGE,
            User.active.is_(True),
            User.email.is_not(None),
            User.email != "",
        )
    )
    to_addresses = sa.select(Notification.id, Notification.email).where(  # a customer's contact
        Notification.emailed_at.is_(None),
        Notification.email.is_not(None),
        Notification.email != "",
        Notification.created_at >= now - EMAIL_MAX_AGE,
    )
    both = sa.union_all(to_users, to_addresses).order_by(sa.literal_column("id")).limit(limit)
    pending = db.session.execute(both).all()
    db.session.commit()
    report, connection = EmailReport(), None
    try:
        for notification_id, address in pending:
            if not _claim(notification_id, now):
                continue  # another node has it
            try:
                connection = connection or _connect(config)
                message = _message(db.session.get(Notification, notification_id), address, config)
                connection.send_message(message)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
                _failed(report, notification_id, address, error)  # this message only
                continue
            except (smtplib.SMTPException, OSError) as error:
                _failed(report, notification_id, address, error)
                _close(connection)
                connection = None
                break  # the server is unreachable: the rest waits for the next tick
            audit.record("notification.email", "notification", notification_id, after={"to": address})
            db.session.commit()
            report.sent += 1
    finally:
        _close(connection)
    return report


def _failed(report: EmailReport, notification_id: int, address: str, error: Exception) -> None:
    _release(notification_id)
    report.failed += 1
    log.warning("e-mail for notification %s to %s failed: %s", notification_id, address, error)


def _claim(notification_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id, Notification.emailed_at.is_(None))
        .values(emailed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _release(notification_id: int) -> None:
    db.session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id)
        .values(emailed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _connect(config) -> smtplib.SMTP:
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25)
    if port == 465:  # implicit TLS
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    else:
        connection = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
        if config.get("SMTP_STARTTLS"):
            connection.starttls(context=ssl.create_default_context())
    if config.get("SMTP_USER"):
        connection.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
    return connection


def _close(connection: smtplib.SMTP | None) -> None:
    if connection is None:
        return
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()


def _message(notification: Notification, address: str, config) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = config.get("SMTP_FROM") or "formflow@localhost"
    message["To"] = address
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notification.body or notification.subject)
    message.add_alternative(html_body(notification.body or notification.subject), subtype="html")
    return message


def html_body(text: str) -> str:
    """Plain text as HTML: escaped, paragraphs and line breaks kept."""
    paragraphs = [
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in part.split("\n")))
        for part in text.split("\n\n")
    ]
    return str(
        Markup("<!doctype html>\n<html><body>\n{}\n</body></html>").format(Markup("\n").join(paragraphs))
    )
