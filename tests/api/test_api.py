"""The JSON API: bearer tokens only, JSON errors with pointers, nothing half-written."""

from __future__ import annotations

import sqlalchemy as sa

from formflow.auth import services
from formflow.customers.models import Customer
from formflow.extensions import db


def _token(app, make_user, roles=("staff",), username="api-user"):
    make_user(username, roles=roles)
    with app.app_context():
        plain, _token = services.create_token(services.find_user(username), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_token_create_cli_prints_a_working_token_once(app, cli, make_user, client):
    make_user("erp", roles=["finance"])
    result = cli("token", "create", "erp")
    assert result.exit_code == 0
    token = result.output.strip()
    assert token.startswith("ff_") and len(token) > 40
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json == {"username": "erp", "display_name": "", "roles": ["finance"]}
    with app.app_context():
        stored = [t.token_hash for t in services.find_user("erp").tokens]
    assert token not in stored


def test_token_create_for_unknown_user_fails(cli):
    result = cli("token", "create", "ghost")
    assert result.exit_code != 0 and "ghost" in result.output


def test_missing_or_wrong_token_is_a_401_json(client):
    for headers in ({}, {"Authorization": "Bearer ff_wrong"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.json["errors"][0]["pointer"] == ""
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_session_cookie_does_not_authenticate_the_api(login_as):
    staff = login_as("staff")
    assert staff.get("/").status_code == 200
    assert staff.get("/api/v1/me").status_code == 401


def test_deactivated_users_token_stops_working(app, make_user, client):
    headers = _token(app, make_user)
    make_user("another-admin", roles=["admin"])
    with app.app_context():
        services.set_active(services.find_user("api-user"), False)
        db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_customer_lookup_and_404(app, make_user, client):
    headers = _token(app, make_user)
    created = client.post(
        "/api/v1/customers", json={"code": "K1", "name": "客户一", "tier": "B"}, headers=headers
    )
    assert created.status_code == 201
    found = client.get("/api/v1/customers/K1", headers=headers)
    balances = {"prepaid": 0, "deposit": 0, "receivable": 0}
    assert found.json == {
        "code": "K1",
        "name": "客户一",
        "tier": "B",
        "status": "active",
        "contacts": [],
        "credit_flag": False,
        "balances": balances,
    }
    flagged = client.patch("/api/v1/customers/K1", json={"credit_flag": True}, headers=headers)
    assert flagged.status_code == 200 and flagged.json["credit_flag"] is True
    refused = client.patch("/api/v1/customers/K1", json={"credit_flag": "yes"}, headers=headers)
    assert refused.status_code == 422 and refused.json["errors"][0]["pointer"] == "/credit_flag"
    missing = client.get("/api/v1/customers/NOPE", headers=headers)
    assert missing.status_code == 404 and "NOPE" in missing.json["errors"][0]["message"]


def _customer_count(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(Customer)).scalar_one()


def test_malformed_json_is_a_400_json_error_and_stores_nothing(app, make_user, client):
    headers = _token(app, make_user) | {"Content-Type": "application/json"}
    response = client.post("/api/v1/customers", data='{"code": "K1", ', headers=headers)
    assert response.status_code == 400
    assert response.json["errors"][0]["message"]
    assert _customer_count(app) == 0


def test_invalid_data_is_a_422_with_pointers_and_stores_nothing(app, make_user, client):
    headers = _token(app, make_user)
    response = client.post("/api/v1/customers", json={"code": "", "name": 5, "tier": "A"}, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "/name"
    response = client.post(
        "/api/v1/customers", json={"code": "", "name": "x", "tier": "A" * 11}, headers=headers
    )
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json["errors"]} == {"/code", "/tier"}
    response = client.post("/api/v1/customers", json=["not", "an", "object"], headers=headers)
    assert response.status_code == 422
    assert _customer_count(app) == 0


def test_duplicate_code_is_refused(app, make_user, client):
    headers = _token(app, make_user)
    client.post("/api/v1/customers", json={"code": "K1", "name": "a", "tier": "A"}, headers=headers)
    again = client.post("/api/v1/customers", json={"code": "K1", "name": "b", "tier": "A"}, headers=headers)
    assert again.status_code == 422 and again.json["errors"][0]["pointer"] == "/code"
    assert _customer_count(app) == 1


def test_role_without_permission_gets_403_json(app, make_user, client):
    headers = _token(app, make_user, roles=("auditor",))
    response = client.post(
        "/api/v1/customers", json={"code": "K1", "name": "a", "tier": "A"}, headers=headers
    )
    assert response.status_code == 403 and response.json["errors"]


def test_unknown_api_route_and_method_are_json(app, make_user, client):
    headers = _token(app, make_user)
    assert client.get("/api/v1/nothing", headers=headers).json["errors"]
    wrong_method = client.delete("/api/v1/me", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.json["errors"]


def test_openapi_document_describes_every_api_route(app, client):
    import re

    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        methods = {m.lower() for m in rule.methods} - {"head", "options"}
        assert methods <= set(document["paths"].get(path, {})), f"{path} {methods} missing from OpenAPI"
