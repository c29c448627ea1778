"""Customer codes go into paths (/customers/C001): a safe pattern is enforced wherever a
customer is created (issue 11 item 7: a code with "/" was stored and could not be opened)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from formflow.auth import services as auth
from formflow.customers import services as customers
from formflow.customers.models import Customer
from formflow.demo import DEMO_CUSTOMERS
from formflow.errors import Invalid
from formflow.extensions import db

REFUSED = [
    "A/B",
    "../C001",
    "C 001",
    "C001.",
    ".C001",
    "-C001",
    "_x",
    "C%2F1",
    "客户1",
    "C001?x",
    "C#1",
    "C\u200b1",
]
ACCEPTED = ["C001", "AB-7", "K", "FX100", "x_y-9", "A" * 40, *(code for code, _name, _tier in DEMO_CUSTOMERS)]


@pytest.mark.parametrize("code", REFUSED)
def test_a_code_outside_the_safe_pattern_is_refused_at_the_field(app_ctx, code):
    with pytest.raises(Invalid) as refused:
        customers.create(code, "Acme", "A")
    assert [error["pointer"] for error in refused.value.errors] == ["/code"]
    assert db.session.execute(sa.select(Customer.id).where(Customer.code == code)).first() is None


@pytest.mark.parametrize("code", ACCEPTED)
def test_codes_of_letters_digits_dashes_and_underscores_are_accepted(app_ctx, code):
    assert customers.create(code, "Acme", "A").code == code


def test_the_api_refuses_a_code_with_a_slash_and_a_created_code_can_be_opened(app, make_user):
    make_user("keeper", roles=["admin"])
    with app.app_context():
        token, _record = auth.create_token(auth.find_user("keeper"), "test")
        db.session.commit()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    client.set_cookie("lang", "en")
    refused = client.post(
        "/api/v1/customers", json={"code": "A/B", "name": "Acme", "tier": "A"}, headers=headers
    )
    assert refused.status_code == 422
    [error] = refused.json["errors"]
    assert error["pointer"] == "/code" and "letters" in error["message"]
    created = client.post(
        "/api/v1/customers", json={"code": "A-B_1", "name": "Acme", "tier": "A"}, headers=headers
    )
    assert created.status_code == 201
    assert client.get("/api/v1/customers/A-B_1", headers=headers).json["code"] == "A-B_1"
