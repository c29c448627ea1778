"""The signed payment webhook: `Formflow-Signature: t=…,v1=HMAC-SHA256("t.body")` with
FORMFLOW_PAYMENT_WEBHOOK_SECRET, five minutes' tolerance, each event id confirmed once (the same
event again acknowledged, posting nothing; the same id with another amount a 409), a delivery
log; a bad, missing or old signature, an unknown event type or customer: 4xx and nothing
written."""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.billing import invoices, webhooks
from formflow.billing.models import Payment, WebhookDelivery
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.ledger.balances import balances

SECRET = "whsec-test-only"


@pytest.fixture
def hooked(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_WEBHOOK_SECRET", SECRET)
    with app.app_context():
        customer = customers.create("WH01", "在线支付客户", "A")
        customer.created_at = datetime(2025, 1, 1)
        ledger.post(
            "management_fee",
            [
                ledger.Line(ledger.customer_account(customer, "receivable"), Decimal("300.00")),
                ledger.Line(ledger.system_account("revenue_management_fee"), Decimal("-300.00")),
            ],
            key="wh-owed",
        )
        invoices.issue(customer, [invoices.Item("管理费", Decimal("300.00"))], issue_date=date(2026, 11, 1))
        db.session.commit()
    return app


def _event(event_id="evt_1", amount="500.00", kind="payment.succeeded", **data):
    body = {"id": event_id, "type": kind, "created": int(time.time()),
            "data": {"customer": "WH01", "amount": amount, "reference": "ALI-778", **data}}  # fmt: skip
    return json.dumps(body).encode()


def _send(client, body: bytes, *, secret=SECRET, at=None, header=None):
    signature = header if header is not None else webhooks.sign(body, secret, at or int(time.time()))
    headers = {"Content-Type": "application/json"}
    if signature:
        headers[webhooks.HEADER] = signature
    return client.post("/api/v1/webhooks/payments", data=body, headers=headers)


def _written(app) -> tuple[int, int, dict]:
    with app.app_context():
        count = db.session.execute(sa.select(sa.func.count()).select_from(Payment)).scalar_one()
        logged = db.session.execute(sa.select(sa.func.count()).select_from(WebhookDelivery)).scalar_one()
        return count, logged, balances(customers.get_by_code("WH01"))


def test_a_signed_event_pays_the_invoice_and_the_rest_goes_to_prepaid(hooked, client):
    response = _send(client, _event())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["duplicate"] is False and body["payment"]["to_prepaid"] == "200.00"
    assert body["payment"]["invoices"][0][1] == "300.00"
    count, logged, money = _written(hooked)
    assert (count, logged, money["receivable"], money["prepaid"]) == (
        1,
        1,
        Decimal("0.00"),
        Decimal("200.00"),
    )
    with hooked.app_context():
        payment = db.session.execute(sa.select(Payment)).scalar_one()
        assert (payment.method, payment.reference, payment.key) == ("online", "ALI-778", "webhook:evt_1")


def test_an_auto_debit_is_recorded_as_one(hooked, client):
    assert _send(client, _event(kind="auto_debit.succeeded")).status_code == 200
    with hooked.app_context():
        assert db.session.execute(sa.select(Payment.method)).scalar_one() == "auto_debit"


def test_the_same_event_twice_confirms_once_and_the_log_counts_both(hooked, client):
    body = _event()
    assert _send(client, body).status_code == 200
    again = _send(client, body)
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    count, _logged, money = _written(hooked)
    assert count == 1 and money["prepaid"] == Decimal("200.00")
    with hooked.app_context():
        assert db.session.execute(sa.select(WebhookDelivery.deliveries)).scalar_one() == 2


def test_a_reused_event_id_with_another_amount_is_a_conflict_and_changes_nothing(hooked, client):
    assert _send(client, _event()).status_code == 200
    before = _written(hooked)
    response = _send(client, _event(amount="900.00"))
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["pointer"] == "/id"
    assert _written(hooked) == before


@pytest.mark.parametrize(
    ("change", "status", "pointer"),
    [
        ({"secret": "wrong"}, 400, ""),
        ({"header": ""}, 400, ""),
        ({"header": "t=abc,v1=00"}, 400, ""),
        ({"header": "v1=00"}, 400, ""),
        ({"at": -301}, 400, ""),
        ({"at": +330}, 400, ""),
        ({"kind": "payment.refunded"}, 422, "/type"),
        ({"amount": "0"}, 422, "/data/amount"),
        ({"amount": "-3"}, 422, "/data/amount"),
        ({"customer": "NOPE"}, 422, "/data/customer"),
        ({"customer": "WH\x0001"}, 422, "/data/customer"),
        ({"amount": "1e400"}, 422, "/data/amount"),
        ({"invoice": "INV-1999-000001"}, 422, "/data/invoice"),
    ],
)
def test_bad_deliveries_are_refused_and_nothing_is_written(hooked, client, change, status, pointer):
    before = _written(hooked)
    sending = {key: change[key] for key in ("secret", "header") if key in change}
    if "at" in change:  # seconds from now
        sending["at"] = int(time.time()) + change["at"]
    data = {key: value for key, value in change.items() if key not in ("secret", "header", "at", "kind")}
    body = _event(kind=change.get("kind", "payment.succeeded"), **data)
    if "amount" in data:
        body = _event(amount=data.pop("amount"), **data)
    response = _send(client, body, **sending)
    assert response.status_code == status, response.get_json()
    assert pointer in [error["pointer"] for error in response.get_json()["errors"]]
    assert _written(hooked) == before


def test_a_body_changed_after_signing_is_refused(hooked, client):
    body = _event()
    header = webhooks.sign(body, SECRET, int(time.time()))
    response = _send(client, body.replace(b"500.00", b"5000.00"), header=header)
    assert response.status_code == 400 and _written(hooked)[0] == 0


def test_without_a_secret_configured_no_event_is_accepted(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_WEBHOOK_SECRET", None)
    response = _send(client, _event())
    assert (
        response.status_code == 403
        and "FORMFLOW_PAYMENT_WEBHOOK_SECRET" in response.get_json()["errors"][0]["message"]
    )


def test_a_signature_four_minutes_old_is_still_accepted(hooked, client):
    body = _event()
    assert _send(client, body, at=int(time.time()) - 240).status_code == 200
