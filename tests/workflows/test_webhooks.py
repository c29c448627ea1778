"""Webhooks: queued in the action's transaction under an idempotency key, sent by tick to a
local HTTP receiver, HMAC-signed, retried with exponential backoff, every attempt audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from workflows.effects_support import free_port, http_receiver, new_case, publish_with, walk, world

from formflow.audit.models import AuditEntry
from formflow.extensions import db, utcnow
from formflow.workflows import webhooks
from formflow.workflows.effects import run_effects
from formflow.workflows.models import WebhookDelivery

SECRET = "whsec-test-secret"


@pytest.fixture
def people(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_SECRET", SECRET)
    return world()


def _queue(people, url, *, now=None):
    publish_with(
        {"executed": {"on_enter": [{"effect": "webhook", "url": url, "event": "deduction.executed"}]}}
    )
    case = new_case(people["staff"])
    walk(case, "executed", people["staff"], now=now or utcnow())
    db.session.commit()
    return case


def _delivery(case) -> WebhookDelivery:
    return db.session.execute(
        sa.select(WebhookDelivery).where(WebhookDelivery.case_id == case.id)
    ).scalar_one()


def _attempts(delivery) -> list[dict]:
    return [
        e.after
        for e in db.session.execute(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "webhook.attempt", AuditEntry.object_id == str(delivery.id))
            .order_by(AuditEntry.seq)
        ).scalars()
    ]


def test_the_effect_queues_and_tick_delivers_a_signed_post(people):
    with http_receiver() as receiver:
        case = _queue(people, receiver.url)
        delivery = _delivery(case)
        assert delivery.key == f"case:{case.id}:executed:{case.state_round}:0"
        # nothing is sent inside the action
        assert (delivery.status, delivery.attempts, receiver.requests) == ("pending", 0, [])
        report = webhooks.retry_webhooks(utcnow())
    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    [request] = receiver.requests
    body, headers = request["body"], request["headers"]
    assert webhooks.verify_signature(body, headers["X-Formflow-Signature"], SECRET)
    assert not webhooks.verify_signature(body, headers["X-Formflow-Signature"], "another secret")
    assert not webhooks.verify_signature(body + b" ", headers["X-Formflow-Signature"], SECRET)
    assert (
        headers["X-Formflow-Signature"].startswith("sha256=") and len(headers["X-Formflow-Signature"]) == 71
    )
    assert (
        headers["X-Formflow-Event"] == "deduction.executed" and headers["X-Formflow-Delivery"] == delivery.key
    )
    assert headers["Content-Type"].startswith("application/json")
    payload = json.loads(body)
    assert payload == {
        "event": "deduction.executed",
        "case": {"id": case.id, "process": "fx_deduction", "version": 1, "state": "executed"},
        "data": {"amount": 3000.00, "reason": "quality"},
        "customer": {"code": "FX100", "name": "华东测试有限公司", "tier": "C", "status": "active"},
    }
    assert b'"amount":3000.00' in body  # money digit for digit
    db.session.expire_all()
    delivery = _delivery(case)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 1, "")
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    assert [a["status"] for a in _attempts(delivery)] == ["delivered"]
    assert webhooks.retry_webhooks(utcnow()).delivered == 0  # never twice


def test_failures_back_off_1_2_4_8_16_minutes_then_fail(people):
    start = utcnow()
    with http_receiver(statuses=[500]) as receiver:
        case = _queue(people, receiver.url, now=start)
        now, waits = start, []
        for _attempt in range(webhooks.MAX_ATTEMPTS):
            assert webhooks.retry_webhooks(now - timedelta(seconds=1)).retrying == 0  # not due yet
            webhooks.retry_webhooks(now)
            db.session.expire_all()
            delivery = _delivery(case)
            if delivery.next_attempt_at is not None:
                waits.append(delivery.next_attempt_at - now)
                now = delivery.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert (delivery.status, delivery.attempts) == ("failed", 6)
    assert delivery.last_error.startswith("HTTP 500")
    assert len(receiver.requests) == 6
    attempts = _attempts(delivery)
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5, 6]
    assert [a["status"] for a in attempts] == ["pending"] * 5 + ["failed"]
    assert all(a["http_status"] == 500 for a in attempts)
    assert webhooks.retry_webhooks(now + timedelta(days=1)).failed == 0  # failed is final


def test_a_retry_that_succeeds_is_delivered(people):
    start = utcnow()
    with http_receiver(statuses=[503, 200]) as receiver:
        case = _queue(people, receiver.url, now=start)
        first = webhooks.retry_webhooks(start)
        second = webhooks.retry_webhooks(start + timedelta(minutes=1))
    assert (first.retrying, second.delivered) == (1, 1)
    db.session.expire_all()
    delivery = _delivery(case)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 2, "")
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]  # the same signed document


def test_redirects_and_unreachable_receivers_are_failures(people):
    with http_receiver(statuses=[302]) as receiver:
        case = _queue(people, receiver.url)
        webhooks.retry_webhooks(utcnow())
    db.session.expire_all()
    assert _delivery(case).last_error.startswith("HTTP 302") and len(receiver.requests) == 1
    closed = _queue_again(people, f"http://127.0.0.1:{free_port()}/hook")
    webhooks.retry_webhooks(utcnow())
    db.session.expire_all()
    delivery = _delivery(closed)
    assert delivery.attempts == 1 and delivery.status == "pending" and delivery.last_error


def _queue_again(people, url):
    """A second case, on a new version of the process hooked to `url`."""
    publish_with(
        {"executed": {"on_enter": [{"effect": "webhook", "url": url, "event": "deduction.executed"}]}}
    )
    case = new_case(people["staff"])
    walk(case, "executed", people["staff"])
    db.session.commit()
    return case


def test_the_same_effect_run_again_never_queues_twice(people):
    case = _queue(people, "https://hooks.example.test/formflow")
    again = run_effects(case, "executed", people["staff"], utcnow())
    assert again[0]["already_queued"] is True and again[0]["key"] == _delivery(case).key
    count = db.session.execute(
        sa.select(sa.func.count()).select_from(WebhookDelivery).where(WebhookDelivery.case_id == case.id)
    ).scalar_one()
    assert count == 1


def test_a_new_round_is_a_new_delivery(people):
    case = _queue(people, "https://hooks.example.test/formflow")
    walk_back = case.state_round
    case.state_round = walk_back + 1  # the case entered the state again
    run_effects(case, "executed", people["staff"], utcnow())
    keys = sorted(
        db.session.execute(sa.select(WebhookDelivery.key).where(WebhookDelivery.case_id == case.id)).scalars()
    )
    assert keys == [f"case:{case.id}:executed:{walk_back}:0", f"case:{case.id}:executed:{walk_back + 1}:0"]


def test_a_rolled_back_action_queues_nothing(people):
    publish_with(
        {
            "executed": {
                "on_enter": [
                    {"effect": "webhook", "url": "https://hooks.example.test/x", "event": "e"},
                    {"effect": "start_case", "process": "fx_not_published"},
                ]
            }
        }
    )
    case = new_case(people["staff"])
    with pytest.raises(Exception):  # noqa: B017 - whichever way it fails, nothing stays
        walk(case, "executed", people["staff"])
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(WebhookDelivery)).scalar_one() == 0


def test_without_a_secret_deliveries_wait(people, app, monkeypatch):
    with http_receiver() as receiver:
        case = _queue(people, receiver.url)
        monkeypatch.setitem(app.config, "WEBHOOK_SECRET", None)
        report = webhooks.retry_webhooks(utcnow())
        assert report.skipped and receiver.requests == []
        assert _delivery(case).attempts == 0
        monkeypatch.setitem(app.config, "WEBHOOK_SECRET", SECRET)
        assert webhooks.retry_webhooks(utcnow()).delivered == 1


def test_a_claimed_delivery_is_not_sent_by_another_node(people):
    """Two ticks at once: the second finds it claimed (next attempt pushed a lease ahead)."""
    case = _queue(people, "https://hooks.example.test/never-called")
    delivery = _delivery(case)
    now = utcnow()
    assert webhooks._claim(delivery.id, now) is True
    assert webhooks._claim(delivery.id, now) is False
    report = webhooks.retry_webhooks(now)
    assert (report.delivered, report.retrying, report.failed) == (0, 0, 0)
    db.session.expire_all()
    assert _delivery(case).next_attempt_at == now + webhooks.CLAIM_LEASE
