"""The ledger through the API: postings with an Idempotency-Key (201, a replay 200 with the same
body, another body 409), short balances 422 at /amount, only finance and admin, and the
customer's balances and entries as exact numbers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.auth import services
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger.models import Journal


def _headers(app, make_user, roles, key: str | None = None) -> dict:
    username = f"api-{'-'.join(roles)}"
    make_user(username, roles=roles)
    with app.app_context():
        plain, _token = services.create_token(services.find_user(username), "test")
        db.session.commit()
    headers = {"Authorization": f"Bearer {plain}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


@pytest.fixture
def finance(app, make_user):
    with app.app_context():
        customers.create("API01", "API customer", "B")
        db.session.commit()
    return _headers(app, make_user, ["finance"])


def _post(client, headers, key, body):
    return client.post(
        "/api/v1/ledger/postings", data=json.dumps(body), headers={**headers, "Idempotency-Key": key}
    )


def _journals(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count(Journal.id))).scalar_one()


TOP_UP = {"customer": "API01", "kind": "top_up", "amount": 100.10, "memo": "CRM top-up", "reference": "CRM-1"}


def test_a_top_up_is_posted_once_and_a_replay_answers_the_same(app, client, finance):
    created = _post(client, finance, "crm-1", TOP_UP)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["balances"] == {"prepaid": Decimal("100.10"), "deposit": 0, "receivable": 0}
    assert (body["customer"], body["kind"], body["amount"]) == ("API01", "top_up", Decimal("100.10"))
    assert b'"prepaid":100.10' in created.data  # exact: the amount as written, two decimals
    _post(client, finance, "crm-2", {**TOP_UP, "kind": "usage", "amount": 10})
    again = _post(client, finance, "crm-1", TOP_UP)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == body  # the balances right after it, not now
    assert _journals(app) == 2
    other = _post(client, finance, "crm-1", {**TOP_UP, "amount": 5})
    assert other.status_code == 409
    customer = client.get("/api/v1/customers/API01", headers=finance).json
    assert customer["balances"] == {"prepaid": Decimal("90.10"), "deposit": 0, "receivable": 0}


def test_a_usage_beyond_the_balance_is_a_422_at_the_amount(app, client, finance):
    response = _post(client, finance, "u-1", {**TOP_UP, "kind": "usage", "amount": 5})
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"pointer": "/amount", "message": "预存余额为 0.00，比所需的 5.00 少 5.00。"}
    ]
    assert _journals(app) == 0


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({**TOP_UP, "amount": "ten"}, "/amount"),
        ({**TOP_UP, "amount": -1}, "/amount"),
        ({**TOP_UP, "amount": 0}, "/amount"),
        ({**TOP_UP, "amount": 1.005}, "/amount"),
        ({**TOP_UP, "amount": 1e16}, "/amount"),
        ({**TOP_UP, "amount": None}, "/amount"),
        ({**TOP_UP, "kind": "refund"}, "/kind"),
        ({**TOP_UP, "memo": 5}, "/memo"),
    ],
)
def test_bad_postings_say_where_and_write_nothing(app, client, finance, body, pointer):
    response = _post(client, finance, "bad", body)
    assert response.status_code == 422, response.json
    assert response.json["errors"][0]["pointer"] == pointer
    assert _journals(app) == 0


def test_an_unknown_customer_is_a_404_and_a_missing_or_long_key_a_422(app, client, finance):
    assert _post(client, finance, "k", {**TOP_UP, "customer": "NOPE"}).status_code == 404
    headers = {k: v for k, v in finance.items()}
    missing = client.post("/api/v1/ledger/postings", data=json.dumps(TOP_UP), headers=headers)
    assert missing.status_code == 422 and missing.json["errors"][0]["pointer"] == "/headers/Idempotency-Key"
    assert _post(client, finance, "k" * 256, TOP_UP).status_code == 422
    assert _journals(app) == 0


def test_only_finance_and_admin_post_money(app, client, make_user, finance):
    for roles in (["staff"], ["manager"], ["auditor"], ["risk"]):
        assert _post(client, _headers(app, make_user, roles), "r", TOP_UP).status_code == 403
    assert _post(client, _headers(app, make_user, ["admin"]), "r", TOP_UP).status_code == 201


def test_entries_come_newest_first_in_keyset_pages(app, client, finance):
    for index in range(5):
        assert _post(client, finance, f"e-{index}", {**TOP_UP, "amount": index + 1}).status_code == 201
    first = client.get("/api/v1/customers/API01/entries?account=prepaid&limit=2", headers=finance).json
    assert [e["amount"] for e in first["entries"]] == [5, 4]
    assert [e["balance_after"] for e in first["entries"]] == [15, 10]
    second = client.get(first["next"], headers=finance).json
    assert [e["amount"] for e in second["entries"]] == [3, 2]
    last = client.get(second["next"], headers=finance).json
    assert [e["amount"] for e in last["entries"]] == [1] and last["next"] is None
    assert client.get("/api/v1/customers/API01/entries?account=wallet", headers=finance).status_code == 404


def test_customers_are_listed_in_keyset_pages_and_changed_by_patch(app, client, make_user, finance):
    with app.app_context():
        for index in range(3):
            customers.create(f"LST{index}", f"列表客户 {index}", "C")
        db.session.commit()
    first = client.get("/api/v1/customers?q=LST&limit=2", headers=finance).json
    assert [c["code"] for c in first["customers"]] == ["LST0", "LST1"]
    second = client.get(first["next"], headers=finance).json
    assert [c["code"] for c in second["customers"]] == ["LST2"] and second["next"] is None
    staff = _headers(app, make_user, ["staff"])
    changed = client.patch(
        "/api/v1/customers/LST1", data=json.dumps({"tier": "B", "status": "gone"}), headers=staff
    )
    assert changed.status_code == 422 and changed.json["errors"][0]["pointer"] == "/status"
    changed = client.patch(
        "/api/v1/customers/LST1", data=json.dumps({"tier": "B", "name": "改名"}), headers=staff
    )
    assert changed.status_code == 200 and (changed.json["tier"], changed.json["name"]) == ("B", "改名")
    assert (
        client.patch("/api/v1/customers/LST1", data=json.dumps({"code": "X"}), headers=staff).status_code
        == 422
    )
    assert (
        client.patch("/api/v1/customers/LST1", data=json.dumps({"tier": "A"}), headers=finance).status_code
        == 403
    )
    assert client.get("/api/v1/customers/LST1", headers=finance).json["tier"] == "B"
    unknown_tier = client.patch("/api/v1/customers/LST1", data=json.dumps({"tier": "Z"}), headers=staff)
    assert unknown_tier.status_code == 422 and unknown_tier.json["errors"][0]["pointer"] == "/tier"
    assert "A, B, C" in unknown_tier.json["errors"][0]["message"]


def test_a_customer_is_created_with_contacts_and_bad_ones_are_named_at_their_pointer(app, client, make_user):
    staff = _headers(app, make_user, ["staff"])
    contact = {"person": "赵六", "phone": "021-5555 0000", "email": "zl@example.cn", "address": "上海"}
    bad = client.post(
        "/api/v1/customers",
        data=json.dumps({"code": "CT01", "name": "联系客户", "tier": "A",
                         "contacts": [contact | {"email": "nope"}], "colour": "red"}),
        headers=staff,
    )  # fmt: skip
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json["errors"]] == ["/colour"]
    bad = client.post(
        "/api/v1/customers",
        data=json.dumps(
            {"code": "CT01", "name": "联系客户", "tier": "A", "contacts": [contact | {"email": "nope"}]}
        ),
        headers=staff,
    )
    assert bad.status_code == 422 and [e["pointer"] for e in bad.json["errors"]] == ["/contacts/0/email"]
    assert client.get("/api/v1/customers/CT01", headers=staff).status_code == 404  # nothing written
    created = client.post(
        "/api/v1/customers",
        data=json.dumps({"code": "CT01", "name": "联系客户", "tier": "A", "contacts": [contact]}),
        headers=staff,
    )
    assert created.status_code == 201 and created.json["contacts"] == [contact]
    changed = client.patch(
        "/api/v1/customers/CT01", data=json.dumps({"status": "warned", "reason": "逾期"}), headers=staff
    )
    assert changed.status_code == 200 and changed.json["status"] == "warned"
    listed = client.get("/api/v1/customers?status=warned&q=CT", headers=staff).json
    assert [c["code"] for c in listed["customers"]] == ["CT01"]
