"""The case API: create (201 / 422 with pointers into the body, nothing stored) and read."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from formflow.audit.models import AuditEntry
from formflow.auth import services as users
from formflow.cases import uploads
from formflow.cases.models import Case
from formflow.extensions import db


@pytest.fixture
def bearer(app, make_user):
    def factory(username="erp", roles=("staff",)):
        make_user(username, roles=roles)
        with app.app_context():
            plain, _token = users.create_token(users.find_user(username), "test")
            db.session.commit()
        return {"Authorization": f"Bearer {plain}"}

    return factory


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        count = lambda model: db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()  # noqa: E731
        return count(Case), count(AuditEntry)


def test_create_a_submitted_case_then_read_it(app, client, payment, customer, bearer):
    headers = bearer()
    body = {
        "process": "t_payment",
        "customer": "C100",
        "data": {"amount": 12.5, "method": "bank"},
        "submit": True,
    }
    created = client.post("/api/v1/cases", json=body, headers=headers)
    assert created.status_code == 201
    assert created.json["state"] == "submitted" and created.json["version"] == 1
    read = client.get(f"/api/v1/cases/{created.json['id']}", headers=headers)
    assert read.status_code == 200
    case = read.json
    assert (case["process"], case["version"], case["customer"], case["state"]) == (
        "t_payment",
        1,
        "C100",
        "submitted",
    )
    assert case["data"] == {"amount": 12.5, "method": "bank"}
    assert case["created_by"] == "erp" and case["submitted_by"] == "erp"
    assert case["created_at"].endswith("Z") and case["submitted_at"].endswith("Z")
    assert case["attachments"] == []


def test_money_stays_exact_through_the_api(app, client, payment, customer, bearer):
    headers = bearer()
    body = '{"process": "t_payment", "customer": "C100", "data": {"amount": 0.10, "method": "cash"}}'
    created = client.post("/api/v1/cases", data=body, content_type="application/json", headers=headers)
    assert created.status_code == 201
    read = client.get(f"/api/v1/cases/{created.json['id']}", headers=headers)
    assert '"amount": 0.10' in read.get_data(as_text=True) or '"amount":0.10' in read.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Case, created.json["id"]).data["amount"] == Decimal("0.10")


def test_without_submit_the_case_is_a_draft(client, payment, customer, bearer):
    created = client.post(
        "/api/v1/cases", json={"process": "t_payment", "customer": "C100", "data": {}}, headers=bearer()
    )
    assert created.status_code == 201 and created.json["state"] == "draft"


def test_invalid_data_is_a_422_pointing_into_the_body_and_stores_nothing(
    app, client, payment, customer, bearer
):
    headers = bearer()
    before = _counts(app)
    body = {"process": "t_payment", "customer": "C100", "data": {"amount": "lots", "note": 5}, "submit": True}
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 422
    pointers = {error["pointer"] for error in response.json["errors"]}
    assert {"/data/amount", "/data/note"} <= pointers
    assert all(p.startswith("/data") for p in pointers)
    assert _counts(app) == before


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({"process": "nope", "customer": "C100", "data": {}}, ["/process"]),
        ({"process": "t_payment", "customer": "NOPE", "data": {}}, ["/customer"]),
        ({"customer": "C100"}, ["/process"]),
        ({"process": "t_payment", "customer": "C100", "data": []}, ["/data"]),
        ({"process": "t_payment", "customer": "C100", "submit": "yes"}, ["/submit"]),
        ({"process": 5, "customer": "C100"}, ["/process"]),
    ],
)
def test_unknown_or_malformed_members_are_422_at_their_pointer(
    app, client, payment, customer, bearer, body, pointers
):
    headers = bearer()
    before = _counts(app)
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 422
    assert [error["pointer"] for error in response.json["errors"]] == pointers
    assert _counts(app) == before


def test_roles_without_cases_create_get_403(client, payment, customer, bearer):
    response = client.post(
        "/api/v1/cases",
        json={"process": "t_payment", "customer": "C100", "data": {}},
        headers=bearer("fin", ["finance"]),
    )
    assert response.status_code == 403


def test_read_lists_attachments(app, client, payment, customer, bearer):
    headers = bearer()
    with app.app_context():
        owner = users.find_user("erp")
        upload = FileStorage(io.BytesIO(b"%PDF-1"), "回单.pdf", content_type="application/pdf")
        token = uploads.store_upload("/receipt", upload, {}, actor=owner)
        db.session.commit()
    body = {"process": "t_payment", "customer": "C100", "data": {"receipt": token}}
    created = client.post("/api/v1/cases", json=body, headers=headers)
    assert created.status_code == 201
    [attachment] = client.get(f"/api/v1/cases/{created.json['id']}", headers=headers).json["attachments"]
    assert attachment["token"] == token and attachment["filename"] == "回单.pdf"
    assert attachment["size"] == 6 and len(attachment["sha256"]) == 64


def test_someone_elses_upload_is_a_422_at_its_pointer(app, client, payment, customer, bearer, make_user):
    headers = bearer()
    make_user("alice")
    with app.app_context():
        upload = FileStorage(io.BytesIO(b"secret"), "s.pdf", content_type="application/pdf")
        token = uploads.store_upload("/receipt", upload, {}, actor=users.find_user("alice"))
        db.session.commit()
    body = {"process": "t_payment", "customer": "C100", "data": {"receipt": token}}
    response = client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 422 and response.json["errors"][0]["pointer"] == "/data/receipt"


def test_unknown_case_is_404(client, bearer):
    assert client.get("/api/v1/cases/424242", headers=bearer()).status_code == 404


def test_openapi_describes_the_case_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "post" in paths["/cases"] and "get" in paths["/cases/{case_id}"]
