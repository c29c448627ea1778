"""Inbound payment events (online payments, auto-debits) on `POST /api/v1/webhooks/payments`,
signed Stripe-style:

    Formflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

with the secret FORMFLOW_PAYMENT_WEBHOOK_SECRET. Refused with 400 and nothing written: no or a
malformed header, no v1 that matches (compared in constant time; several v1 are allowed while a
secret is rotated), a timestamp more than TOLERANCE from now (either way: a replayed capture).
Then the event:

    {"id": "evt_1", "type": "payment.succeeded" | "auto_debit.succeeded", "created": 1764720000,
     "data": {"customer": "C001", "amount": "1200.00", "reference": "…", "paid_on": "2026-12-01",
              "invoice": "INV-2026-000001"}}

Each event id is confirmed once: the delivery log's unique event id is the claim, and the
payment's key is `webhook:{event id}`. The same event again is acknowledged (200, counted in the
log) and posts nothing; the same id with other content is a Conflict (409), nothing written."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from formflow import exactjson
from formflow.billing import payments
from formflow.billing.models import Payment, WebhookDelivery
from formflow.customers.models import Customer
from formflow.errors import Conflict, DomainError, Invalid
from formflow.extensions import db, utcnow
from formflow.forms import validate
from formflow.i18n import business_zone
from formflow.inputguard import json_problem

HEADER = "Formflow-Signature"
TOLERANCE = 300  # seconds
METHODS = {"payment.succeeded": "online", "auto_debit.succeeded": "auto_debit"}
EVENT_SCHEMA = {
    "type": "object",
    "required": ["id", "type", "created", "data"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 100},
        "type": {"enum": sorted(METHODS)},
        "created": {"type": "integer", "minimum": 0, "maximum": 2**33},
        "data": {
            "type": "object",
            "required": ["customer", "amount"],
            "properties": {
                "customer": {"type": "string", "minLength": 1, "maxLength": 40},
                "amount": {"type": ["string", "number"]},
                "reference": {"type": "string", "maxLength": 200},
                "paid_on": {"type": "string", "format": "date"},
                "invoice": {"type": "string", "maxLength": 20},
            },
        },
    },
}


class BadSignature(DomainError):
    status = 400


class NotConfigured(DomainError):
    status = 403


@dataclass(frozen=True)
class Received:
    delivery: WebhookDelivery
    payment: Payment
    duplicate: bool


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The header value for `body` sent at `timestamp` (for senders and tests)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(header: str | None, body: bytes, secret: str, now: datetime) -> None:
    """BadSignature unless `header` signs `body` with `secret` within TOLERANCE of `now`."""
    if not header:
        raise BadSignature(_("The %(header)s header is missing.", header=HEADER))
    parts: dict[str, list[str]] = {}
    for piece in header.split(","):
        name, _sep, value = piece.strip().partition("=")
        parts.setdefault(name, []).append(value)
    stamps = parts.get("t") or []
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit() or not parts.get("v1"):
        raise BadSignature(_("The %(header)s header is not t=…,v1=….", header=HEADER))
    timestamp = int(stamps[0])
    if abs(now.replace(tzinfo=UTC).timestamp() - timestamp) > TOLERANCE:
        raise BadSignature(_("The signature's timestamp is more than five minutes away from now."))
    expected = sign(body, secret, timestamp).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, given) for given in parts["v1"]):
        raise BadSignature(_("The signature does not match the body."))


def receive(header: str | None, body: bytes, now: datetime | None = None) -> Received:
    """Verify and confirm one event (see the module's notes); the caller commits."""
    secret = current_app.config.get("PAYMENT_WEBHOOK_SECRET")
    if not secret:
        raise NotConfigured(_("Payment events are not accepted: FORMFLOW_PAYMENT_WEBHOOK_SECRET is not set."))
    now = now or utcnow()
    verify(header, body, secret, now)
    try:
        event = exactjson.loads(body)
    except (ValueError, RecursionError):
        raise BadSignature(_("The request body is not valid JSON.")) from None
    problems = validate(EVENT_SCHEMA, event)
    if not problems and (problem := json_problem(event)) is not None:
        problems = [{"pointer": problem[0], "message": problem[1]}]  # what cannot be stored (a NUL)
    if problems:
        raise Invalid(problems)
    digest = hashlib.sha256(body).hexdigest()
    known = _delivery(event["id"])
    if known is not None:
        return _again(known, digest, now)
    data = event["data"]
    customer = db.session.execute(
        sa.select(Customer).where(Customer.code == data["customer"])
    ).scalar_one_or_none()
    if customer is None:
        raise Invalid(
            [{"pointer": "/data/customer", "message": _("No customer %(code)s.", code=data["customer"])}]
        )
    delivery_id = _claim(event, digest, now)
    if delivery_id is None:  # a concurrent delivery of the same event claimed it first
        return _again(_delivery(event["id"]), digest, now)
    created = datetime.fromtimestamp(event["created"], UTC)
    paid_on = data.get("paid_on") or created.astimezone(business_zone()).date().isoformat()
    chosen = [payments.Chosen(data["invoice"], data["amount"])] if data.get("invoice") else None
    try:
        payment = payments.register(
            customer, data["amount"], method=METHODS[event["type"]], paid_on=paid_on,
            key=f"webhook:{event['id']}", reference=data.get("reference") or event["id"], chosen=chosen,
        )  # fmt: skip
    except Invalid as refused:
        raise Invalid(
            [{**problem, "pointer": _pointer(problem["pointer"])} for problem in refused.errors]
        ) from None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    delivery.payment_id = payment.id
    db.session.flush()
    return Received(delivery, payment, duplicate=False)


def _pointer(pointer: str) -> str:
    """A payment's pointer (/amount, /allocations/0/amount) as one into the event."""
    if pointer.startswith("/allocations"):
        return "/data/invoice" if pointer.endswith("/invoice") else "/data/amount"
    return "/data" + pointer


def _delivery(event_id: str) -> WebhookDelivery | None:
    return db.session.execute(
        sa.select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
    ).scalar_one_or_none()


def _again(known: WebhookDelivery, digest: str, now: datetime) -> Received:
    if known.body_sha256 != digest:
        message = _("Event %(id)s was received before with other content.", id=known.event_id)
        raise Conflict(message, [{"pointer": "/id", "message": message}])
    known.deliveries += 1
    known.last_received_at = now
    db.session.flush()
    return Received(known, db.session.get(Payment, known.payment_id), duplicate=True)


def _claim(event: dict, digest: str, now: datetime) -> int | None:
    connection = db.session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    insert = (
        dialect.insert(WebhookDelivery.__table__)
        .values(
            event_id=event["id"],
            event_type=event["type"],
            body_sha256=digest,
            deliveries=1,
            received_at=now,
            last_received_at=now,
        )
        .on_conflict_do_nothing()
        .returning(WebhookDelivery.id)
    )
    return connection.execute(insert).scalar()


def deliveries(*, limit: int = 100) -> list[WebhookDelivery]:
    return list(
        db.session.execute(
            sa.select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
        ).scalars()
    )
