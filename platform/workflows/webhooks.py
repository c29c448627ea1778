"""Outbound webhooks: the `webhook` effect queues an HMAC-signed JSON POST, `formflow tick`
sends it (`retry_webhooks`), retrying with exponential backoff; every attempt is in the
delivery row and in the audit log.

The effect only writes a WebhookDelivery row in the action's transaction: an action that
rolls back never sent anything, and a committed one is delivered at least once. Receivers
verify `X-Formflow-Signature: sha256=<hex>` (HMAC-SHA256 of the raw body with
FORMFLOW_WEBHOOK_SECRET) and de-duplicate on `X-Formflow-Delivery`."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from formflow import audit, exactjson
from formflow.extensions import db, utcnow
from formflow.workflows.effects import EffectContext, effect
from formflow.workflows.models import WebhookDelivery

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Formflow-Signature"
TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 6
#: How long a claimed delivery is left to the node that claimed it (far above the timeout):
#: a node that dies mid-send gives it back to the next tick after this.
CLAIM_LEASE = timedelta(minutes=5)
#: How much of a failing response's body is kept in `last_error`.
ERROR_BODY_CHARS = 300


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
        http_status, error = post(delivery, secret)
        _record_attempt(delivery, now, http_status, error)
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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: urllib would re-send the POST as a GET without the body."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(delivery: WebhookDelivery, secret: str) -> tuple[int | None, str]:
    """POST the delivery once: (HTTP status or None, error text; "" on a 2xx)."""
    body = body_of(delivery.payload)
    request = urllib.request.Request(
        delivery.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Formflow-Webhook/1",
            "X-Formflow-Event": delivery.event,
            "X-Formflow-Delivery": delivery.key,
            SIGNATURE_HEADER: sign(body, secret),
        },
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read(1024)
            status = response.status
    except urllib.error.HTTPError as error:
        detail = error.read(ERROR_BODY_CHARS).decode("utf-8", "replace") if error.fp else ""
        error.close()
        return error.code, f"HTTP {error.code} {error.reason}: {detail}".strip().rstrip(":")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        return None, str(getattr(error, "reason", None) or error) or type(error).__name__
    if 200 <= status < 300:
        return status, ""
    return status, f"HTTP {status}"


def _record_attempt(delivery: WebhookDelivery, now: datetime, http_status: int | None, error: str) -> None:
    delivery.attempts += 1
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        delivery.last_error = ""
    else:
        delivery.last_error = error[:1000]
        if delivery.attempts >= MAX_ATTEMPTS:
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
