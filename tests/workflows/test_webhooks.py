"""Webhooks: queued in the action's transaction under an idempotency key, sent by tick to a
local HTTP receiver, HMAC-signed, retried with exponential backoff, every attempt audited;
never sent inside the network unless the host is allowed, and no answer's body is kept."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from outbound_support import fake_dns
from workflows.effects_support import free_port, http_receiver, new_case, publish_with, spec_with, walk, world

from formflow import outbound
from formflow.audit.models import AuditEntry
from formflow.errors import Invalid
from formflow.extensions import db, utcnow
from formflow.processes.spec import check_spec
from formflow.workflows import webhooks
from formflow.workflows.effects import run_effects
from formflow.workflows.models import WebhookDelivery

SECRET = "whsec-test-secret"


@pytest.fixture
def people(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_SECRET", SECRET)
    allow(app, monkeypatch, "127.0.0.1")  # the local receivers; loopback is refused otherwise
    return world()


def allow(app, monkeypatch, hosts: str) -> None:
    """FORMFLOW_WEBHOOK_ALLOW_HOSTS=hosts, as the admin sets it."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_HOSTS", outbound.parse_allow_hosts(hosts))


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


# --- inside addresses, credentials and what is kept of an answer -----------------------------

INSIDE_URLS = [
    "http://127.0.0.1:5000/hook",
    "http://127.1/hook",
    "http://2130706433/hook",
    "http://0x7f.1/hook",
    "http://0.0.0.0:5432/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://localhost:5000/hook",
    "http://api.localhost/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://224.0.0.1/hook",
    "https://user:secret@hooks.example.com/hook",
]


@pytest.mark.parametrize("url", INSIDE_URLS)
def test_check_refuses_inside_urls_and_credentials_at_their_pointer(app, app_ctx, monkeypatch, url):
    allow(app, monkeypatch, "")
    spec = spec_with({"executed": {"on_enter": [{"effect": "webhook", "url": url, "event": "e"}]}})
    problems = check_spec(spec)
    assert [p["pointer"] for p in problems] == ["/workflow/states/executed/on_enter/0/url"]
    if "@" not in url:
        assert "FORMFLOW_WEBHOOK_ALLOW_HOSTS" in problems[0]["message"]


def test_publish_refuses_an_inside_url_unless_its_host_is_allowed(people, app, monkeypatch):
    allow(app, monkeypatch, "")
    hooked = {"executed": {"on_enter": [{"effect": "webhook", "url": "http://127.0.0.1:9/x", "event": "e"}]}}
    with pytest.raises(Invalid) as refused:
        publish_with(hooked)
    db.session.rollback()
    assert "/workflow/states/executed/on_enter/0/url" in [e["pointer"] for e in refused.value.errors]
    allow(app, monkeypatch, "127.0.0.1:9")
    publish_with(hooked)  # allowed: the named host (and port)
    allow(app, monkeypatch, "127.0.0.1:10")
    assert check_spec(spec_with(hooked))  # another port of it is not


def _receiver_port(receiver) -> int:
    return int(receiver.url.split(":")[2].split("/")[0])


def _failed_once(delivery) -> None:
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 1, None)


def test_a_delivery_to_localhost_is_refused_once_the_host_is_no_longer_allowed(people, app, monkeypatch):
    """The spec passed when it was published (localhost allowed then); tick refuses it now,
    at once and for good, and the receiver hears nothing."""
    with http_receiver() as receiver:
        port = _receiver_port(receiver)
        allow(app, monkeypatch, f"localhost:{port}")
        case = _queue(people, f"http://localhost:{port}/hooks/formflow")
        allow(app, monkeypatch, "")
        report = webhooks.retry_webhooks(utcnow())
        assert receiver.requests == []
    assert (report.delivered, report.retrying, report.failed) == (0, 0, 1)
    db.session.expire_all()
    delivery = _delivery(case)
    _failed_once(delivery)
    assert delivery.last_error == "refused: localhost is this machine"
    [attempt] = _attempts(delivery)
    assert (attempt["status"], attempt["error"], attempt["http_status"]) == (
        "failed",
        delivery.last_error,
        None,
    )
    assert webhooks.retry_webhooks(utcnow() + timedelta(days=1)).failed == 0  # not retried


def test_a_name_resolving_inside_is_refused_at_delivery(people, app, monkeypatch):
    """DNS rebinding: the name says nothing at check time; at delivery it resolves to this
    machine, where a receiver listens, and nothing is sent."""
    dns = fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    with http_receiver() as receiver:
        case = _queue(people, f"http://hooks.example.com:{_receiver_port(receiver)}/hooks/formflow")
        assert dns.lookups == []  # check and publish did not resolve
        webhooks.retry_webhooks(utcnow())
        assert receiver.requests == []
    db.session.expire_all()
    delivery = _delivery(case)
    _failed_once(delivery)
    assert delivery.last_error == "refused: 127.0.0.1 is a loopback address"
    assert dns.lookups == ["hooks.example.com"]


def test_the_allow_list_lets_only_the_named_host_through(people, app, monkeypatch):
    fake_dns(monkeypatch, {"hooks.internal.test": ["127.0.0.1"], "other.internal.test": ["127.0.0.1"]})
    with http_receiver() as receiver:
        port = _receiver_port(receiver)
        allow(app, monkeypatch, f"hooks.internal.test:{port}, localhost:{port}, other.internal.test:{port}")
        named = _queue(people, f"http://hooks.internal.test:{port}/hooks/formflow")
        other = _queue_again(people, f"http://other.internal.test:{port}/hooks/formflow")
        allow(app, monkeypatch, f"hooks.internal.test:{port}")  # what the admin leaves allowed
        report = webhooks.retry_webhooks(utcnow())
    assert (report.delivered, report.failed) == (1, 1)
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.internal.test:{port}"
    assert request["headers"]["X-Formflow-Delivery"] == _delivery(named).key
    db.session.expire_all()
    assert _delivery(named).status == "delivered"
    assert _delivery(other).last_error == "refused: 127.0.0.1 is a loopback address"


def test_a_stored_url_with_credentials_is_refused_at_delivery(people):
    with http_receiver() as receiver:
        case = _queue(people, receiver.url)
        delivery = _delivery(case)
        delivery.url = receiver.url.replace("http://", "http://admin:hunter2@")  # queued before the check
        db.session.commit()
        webhooks.retry_webhooks(utcnow())
        assert receiver.requests == []
    db.session.expire_all()
    _failed_once(_delivery(case))
    assert _delivery(case).last_error == "refused: the URL carries a user name or password"


def test_an_error_answers_body_is_not_stored(people):
    secret = b'{"error": "db password is hunter2", "trace": "' + b"x" * 5000 + b'"}'
    with http_receiver(statuses=[500], answer=secret) as receiver:
        case = _queue(people, receiver.url)
        webhooks.retry_webhooks(utcnow())
        assert len(receiver.requests) == 1
    db.session.expire_all()
    delivery = _delivery(case)
    assert delivery.last_error == "HTTP 500 Internal Server Error" and delivery.status == "pending"
    entries = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.object_type == "webhook_delivery")
    ).scalars()
    text = json.dumps([e.after for e in entries], default=str)
    assert "hunter2" not in text and "xxxx" not in text
    assert _attempts(delivery)[0]["error"] == "HTTP 500 Internal Server Error"


def test_a_slow_receiver_is_given_up_on_within_the_timeout(people, monkeypatch):
    from outbound_support import trickling_server

    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 1)
    with trickling_server() as port:
        case = _queue(people, f"http://127.0.0.1:{port}/hook")
        started = utcnow()
        webhooks.retry_webhooks(started)
        took = utcnow() - started
    db.session.expire_all()
    delivery = _delivery(case)
    assert took < timedelta(seconds=3) and delivery.status == "pending"  # retried later
    assert delivery.last_error == "no answer within 1 s"


def test_the_case_history_names_a_delivered_webhook_in_words(people):
    from formflow.workflows import history

    with http_receiver() as receiver:
        case = _queue(people, receiver.url)
        webhooks.retry_webhooks(utcnow())
    db.session.expire_all()
    summaries = [entry.summary for entry in history.timeline(case) if entry.kind == "webhook"]
    assert summaries and all("delivered" not in summary for summary in summaries)
    assert any("已发送" in summary for summary in summaries)
