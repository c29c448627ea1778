"""POST /api/v1/processes (import), POST …/publish, GET the published list and a process."""

from __future__ import annotations

import sqlalchemy as sa

from formflow.audit.models import AuditEntry
from formflow.auth import services as auth
from formflow.extensions import db
from formflow.processes.models import Process, ProcessVersion


def _bearer(app, make_user, role: str) -> dict:
    username = f"api-{role}"
    make_user(username, roles=[role])
    with app.app_context():
        plain, _token = auth.create_token(auth.find_user(username), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
            for model in (Process, ProcessVersion, AuditEntry)
        )


def test_import_creates_then_is_idempotent(app, client, make_user, make_spec):
    admin = _bearer(app, make_user, "admin")
    created = client.post("/api/v1/processes", json=make_spec(), headers=admin)
    assert created.status_code == 201
    assert created.json["key"] == "deduction" and created.json["version"] == 1
    assert created.json["status"] == "draft"
    before = _counts(app)
    again = client.post("/api/v1/processes", json=make_spec(), headers=admin)
    assert again.status_code == 200 and again.json["changed"] is False and again.json["version"] == 1
    assert _counts(app) == before


def test_import_accepts_exact_decimal_numbers_in_the_body(app, client, make_user, make_spec):
    admin = _bearer(app, make_user, "admin")
    body = '{"formflow": 1, "key": "fee", "category": "other", "name": {"zh-CN": "费", "en": "Fee"},'
    body += ' "form": {"schema": {"type": "object",'
    body += ' "properties": {"a": {"type": "number", "multipleOf": 0.01}}}}}'
    response = client.post("/api/v1/processes", data=body, content_type="application/json", headers=admin)
    assert response.status_code == 201
    exported = client.get("/api/v1/processes/fee", headers=admin)
    assert exported.status_code == 200 and exported.json["versions"][0]["status"] == "draft"


def test_invalid_spec_is_422_with_pointers_and_stores_nothing(app, client, make_user, make_spec):
    admin = _bearer(app, make_user, "admin")
    before = _counts(app)
    spec = make_spec(key="Bad")
    spec["form"]["uiSchema"] = {"amount": {"ui:widget": "nope"}}
    response = client.post("/api/v1/processes", json=spec, headers=admin)
    assert response.status_code == 422
    assert {error["pointer"] for error in response.json["errors"]} >= {"/key"}
    schema_error = make_spec()
    schema_error["form"]["schema"]["type"] = 5
    response = client.post("/api/v1/processes", json=schema_error, headers=admin)
    assert response.status_code == 422
    assert "/form/schema/type" in [error["pointer"] for error in response.json["errors"]]
    assert _counts(app) == before


def test_body_must_be_a_json_object(app, client, make_user):
    admin = _bearer(app, make_user, "admin")
    assert client.post("/api/v1/processes", data="nope", headers=admin).status_code == 400
    assert client.post("/api/v1/processes", json=[1], headers=admin).status_code == 422


def test_publish(app, client, make_user, make_spec):
    admin = _bearer(app, make_user, "admin")
    client.post("/api/v1/processes", json=make_spec(), headers=admin)
    published = client.post("/api/v1/processes/deduction/publish", headers=admin)
    assert published.status_code == 200
    assert published.json == {"key": "deduction", "version": 1, "status": "published"}
    again = client.post("/api/v1/processes/deduction/publish", json={}, headers=admin)
    assert again.status_code == 409 and again.json["errors"][0]["message"]
    client.post("/api/v1/processes", json=make_spec(category="other"), headers=admin)
    second = client.post("/api/v1/processes/deduction/publish", json={"version": 2}, headers=admin)
    assert second.status_code == 200 and second.json["version"] == 2
    detail = client.get("/api/v1/processes/deduction", headers=admin).json
    assert detail["published"] == 2
    assert [(v["number"], v["status"]) for v in detail["versions"]] == [(2, "published"), (1, "retired")]
    wrong = client.post("/api/v1/processes/deduction/publish", json={"version": "2"}, headers=admin)
    assert wrong.status_code == 422 and wrong.json["errors"][0]["pointer"] == "/version"
    assert client.post("/api/v1/processes/missing/publish", headers=admin).status_code == 404


def test_published_list_is_for_every_api_user(app, client, make_user, make_spec):
    admin = _bearer(app, make_user, "admin")
    client.post("/api/v1/processes", json=make_spec(), headers=admin)
    client.post("/api/v1/processes", json=make_spec(key="payment", category="payment"), headers=admin)
    client.post("/api/v1/processes/payment/publish", headers=admin)
    staff = _bearer(app, make_user, "staff")
    listed = client.get("/api/v1/processes", headers=staff)
    assert listed.status_code == 200
    assert listed.json == {
        "processes": [
            {"key": "payment", "category": "payment", "name": make_spec()["name"], "version": 1},
        ]
    }
    assert client.get("/api/v1/processes/payment", headers=staff).status_code == 403
    assert client.post("/api/v1/processes", json=make_spec(key="x_y"), headers=staff).status_code == 403


def test_openapi_documents_the_process_paths(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/processes"])
    assert "get" in paths["/processes/{key}"] and "post" in paths["/processes/{key}/publish"]
