"""Outbound webhooks: the `webhook` effect queues an HMAC-signed JSON POST, `formflow tick`
sends it (`retry_webhooks`), retrying with exponential backoff; every attempt is in the
delivery row and in the audit log.

The effect only writes a WebhookDelivery row in the action's transaction: an action that
rolls back never sent anything, and a committed one is delivered at least once. Receivers
verify `X-Formflow-Signature: sha256=<hex>` (HMAC-SHA256 of the raw body with
FORMFLOW_WEBHOOK_SECRET) and de-duplicate on `X-Formflow-Delivery`.

A URL pointing inside (this machine, the private network, link-local, multicast, a user name
or password in it) is refused when the spec is checked and again, after DNS, at each
delivery (formflow/outbound.py); FORMFLOW_WEBHOOK_ALLOW_HOSTS names the internal hosts that
may receive. Only the status code and its standard reason are kept from an answer."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import gettext as _

from formflow import audit, exactjson, outbound
from formflow.effects import EffectContext, effect
from formflow.extensions import db, utcnow
from formflow.workflows.models import WebhookDelivery

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Formflow-Signature"
TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 6
#: How long a claimed delivery is left to the node that claimed it (far above the timeout):
#: a node that dies mid-send gives it back to the next tick after this.
CLAIM_LEASE = timedelta(minutes=5)
#: `last_error` is a short reason of ours (the answer's body is never read, let alone kept).
ERROR_CHARS = 100


def allowed_hosts() -> outbound.AllowList:
    """FORMFLOW_WEBHOOK_ALLOW_HOSTS as parsed by config (a string or list of names given to
    create_app is parsed here)."""
    value = (current_app.config.get("WEBHOOK_ALLOW_HOSTS") if has_app_context() else None) or ()
    if isinstance(value, str) or any(isinstance(entry, str) for entry in value):
        return outbound.parse_allow_hosts(value)
    return frozenset(value)


def _check_url(config: dict, spec: dict) -> list[dict]:
    """At save and publish: what the URL itself says (no DNS; delivery checks the addresses)."""
    try:
        outbound.check_url(config["url"], allowed_hosts())
    except outbound.Refused as refused:
        return [{"pointer": "/url", "message": _refusal_message(refused)}]
    return []


def _refusal_message(refused: outbound.Refused) -> str:
    inside = _(
        "Webhooks are not sent inside the network; an administrator can allow a named host "
        "with FORMFLOW_WEBHOOK_ALLOW_HOSTS."
    )
    subject = refused.subject
    said = {
        "localhost": lambda: _("%(address)s is this machine.", address=subject),
        "unspecified": lambda: _("%(address)s is the unspecified address (this machine).", address=subject),
        "loopback": lambda: _("%(address)s is a loopback address (this machine).", address=subject),
        "link-local": lambda: _(
            "%(address)s is a link-local address (such as the cloud metadata service).", address=subject
        ),
        "multicast": lambda: _("%(address)s is a multicast address.", address=subject),
        "reserved": lambda: _("%(address)s is a reserved address.", address=subject),
        "private": lambda: _("%(address)s is a private network address.", address=subject),
        "non-public": lambda: _("%(address)s is not a public address.", address=subject),
    }.get(refused.kind)
    if said is not None:
        return said() + " " + inside
    return {
        "scheme": _("Webhooks are sent to http and https URLs only."),
        "credentials": _(
            "A user name or password does not belong in a webhook URL (it would be stored and shown)."
        ),
        "port": _("The port must be a number from 1 to 65535."),
        "path": _("The path must be printable ASCII (percent-encode spaces and other characters)."),
    }.get(refused.kind, _("The URL names no valid host."))


# --- the effect -------------------------------------------------------------------------------


@effect(
    "webhook",
    schema={
        "required": ["url", "event"],
        "properties": {
            "url": {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 1000},
            "event": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]+$", "maxLength": 100},
        },
    },
    check=_check_url,
)
def webhook(ctx: EffectContext, config: dict) -> dict:
    """Queue the delivery; its key makes a re-run of the same effect a no-op."""
    existing = db.session.execute(
        sa.select(WebhookDelivery).where(WebhookDelivery.key == ctx.key)
    ).scalar_one_or_none()
    if existing is not None:
        return {"delivery": existing.id, "key": ctx.key, "already_queued": True}
    case = ctx.case
    delivery = WebhookDelivery(
        key=ctx.key,
        case_id=case.id,
        url=config["url"],
        event=config["event"],
        payload={
            "event": config["event"],
            "case": {
                "id": case.id,
                "process": case.process.key,
                "version": case.version.number,
                "state": case.state,
            },
            "data": case.data or {},
            "customer": case.customer.snapshot(),
        },
        status="pending",
        attempts=0,
        next_attempt_at=ctx.now,
        created_at=ctx.now,
    )
    db.session.add(delivery)
    db.session.flush()
    return {"delivery": delivery.id, "key": ctx.key, "url": config["url"], "event": config["event"]}


# --- signing ----------------------------------------------------------------------------------


def body_of(payload: dict) -> bytes:
    """The exact bytes POSTed (and signed): compact, sorted, money digit for digit."""
    return exactjson.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """What a receiver does (constant-time comparison)."""
    return bool(header) and hmac.compare_digest(sign(body, secret), header)


# --- sending ----------------------------------------------------------------------------------


@dataclass
class WebhookReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    #: why nothing was sent ("" when deliveries were tried)
    skipped: str = ""


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 1, 2, 4, 8, 16 minutes."""
    return timedelta(minutes=2 ** (attempts - 1))


def retry_webhooks(now: datetime | None = None, *, limit: int = 100) -> WebhookReport:
    """Send every pending delivery that is due. Called by `formflow tick`; commits as it
    goes (call it outside any other unit of work).

    Each delivery is claimed by a conditional UPDATE pushing `next_attempt_at` a lease ahead
    (committed before the POST, so no transaction or lock is held across the network, and
    nodes running tick together never both send it). 2xx → delivered; anything else →
    attempts+1, `last_error`, retried after 1, 2, 4, … minutes; after MAX_ATTEMPTS → failed.
    A refused URL (outbound.Refused) fails at once.
    Without FORMFLOW_WEBHOOK_SECRET nothing is sent (deliveries wait, attempts untouched)."""
    now = now or utcnow()
    secret = current_app.config.get("WEBHOOK_SECRET")
    if not secret:
        return WebhookReport(skipped="FORMFLOW_WEBHOOK_SECRET is not set")
    due = list(
        db.session.execute(
            sa.select(WebhookDelivery.id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        ).scalars()
    )
    db.session.commit()
    report = WebhookReport()
    for delivery_id in due:
        if not _claim(delivery_id, now):
            continue
        delivery = db.session.get(WebhookDelivery, delivery_id)
        http_status, error, permanent = post(delivery, secret)
        _record_attempt(delivery, now, http_status, error, permanent=permanent)
        db.session.commit()
        if delivery.status == "delivered":
            report.delivered += 1
        elif delivery.status == "failed":
            report.failed += 1
        else:
            report.retrying += 1
    return report


def _claim(delivery_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def post(delivery: WebhookDelivery, secret: str) -> tuple[int | None, str, bool]:
    """POST the delivery once: (HTTP status or None, error text or "" on a 2xx, whether the
    error is permanent). A redirect is a failure (re-sent as a GET it would lose the body, and
    its target is unchecked); a refused URL is permanent: trying again gives the same answer."""
    body = body_of(delivery.payload)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Formflow-Webhook/1",
        "X-Formflow-Event": delivery.event,
        "X-Formflow-Delivery": delivery.key,
        SIGNATURE_HEADER: sign(body, secret),
    }
    try:
        status, phrase = outbound.post(
            delivery.url, body, headers, allow=allowed_hosts(), timeout=TIMEOUT_SECONDS
        )
    except outbound.Refused as refused:
        return None, str(refused)[:ERROR_CHARS], True
    except outbound.Failed as failed:
        return None, str(failed)[:ERROR_CHARS] or "no answer", False
    if 200 <= status < 300:
        return status, "", False
    return status, f"HTTP {status} {phrase}".strip()[:ERROR_CHARS], False


def _record_attempt(
    delivery: WebhookDelivery, now: datetime, http_status: int | None, error: str, *, permanent: bool = False
) -> None:
    delivery.attempts += 1
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        delivery.last_error = ""
    else:
        delivery.last_error = error[:ERROR_CHARS]
        if permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = "failed", None
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        log.warning("webhook %s attempt %d failed: %s", delivery.key, delivery.attempts, error)
    db.session.flush()
    audit.record(
        "webhook.attempt",
        "webhook_delivery",
        delivery.id,
        after={
            "key": delivery.key,
            "url": delivery.url,
            "attempt": delivery.attempts,
            "http_status": http_status,
            "status": delivery.status,
            "error": delivery.last_error,
            "next_attempt_at": delivery.next_attempt_at,
        },
    )
