"""Bad input is a 4xx with a message, never a 500 (issue: 44 distinct 500s from JSON nested
a thousand deep, lone surrogates, NUL characters on PostgreSQL, integers above 2^63, form
controls that are not field paths and row counts of 4,300 digits)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from formflow.auth import services as auth
from formflow.cases.models import Case
from formflow.demo import DEMO_PASSWORD, load_demo
from formflow.extensions import db


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo(echo=lambda _line: None)
        db.session.commit()


def _bearer(app, username: str) -> dict:
    with app.app_context():
        token, _record = auth.create_token(auth.find_user(username), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@pytest.fixture
def staff_api(app, demo):
    return _bearer(app, "staff")


@pytest.fixture
def admin_api(app, demo):
    return _bearer(app, "admin")


def _cases(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Case))


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def _case_body(data_json: str) -> str:
    return '{"process":"deduction","customer":"C001","data":' + data_json + "}"


# --- JSON bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [100, 1_000, 100_000])
def test_json_nested_deep_is_refused_with_a_message(app, client, staff_api, levels):
    before = _cases(app)
    response = client.post(
        "/api/v1/cases", data=_case_body('{"note":' + _deep(levels) + "}"), headers=staff_api
    )
    assert response.status_code in (400, 422)
    message = response.get_json()["errors"][0]["message"]
    assert "64" in message
    assert _cases(app) == before


def test_deep_json_on_processes_and_actions_is_refused(app, client, admin_api, staff_api):
    spec = '{"key":"deep","schema":' + _deep(5_000) + "}"
    assert client.post("/api/v1/processes", data=spec, headers=admin_api).status_code == 400
    created = client.post("/api/v1/cases", data=_case_body('{"amount":10}'), headers=staff_api)
    nested = '{"lock_version":1,"data":' + _deep(2_000) + "}"
    url = f"/api/v1/cases/{created.get_json()['id']}/actions/submit"
    assert client.post(url, data=nested, headers=staff_api).status_code == 400
    deep_object = '{"data":' + '{"a":' * 70 + "1" + "}" * 70 + "}"
    refused = client.post(url, data=deep_object, headers=staff_api)
    assert refused.status_code == 422 and "64" in refused.get_json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "text, pointer",
    [(r'"a\ud800b"', "/data/note"), (r'"a\u0000b"', "/data/note"), (r'"\udfff"', "/data/note")],
)
def test_unstorable_characters_in_json_are_refused_where_they_are(app, client, staff_api, text, pointer):
    before = _cases(app)
    body = _case_body('{"amount":10,"note":' + text + "}")
    response = client.post("/api/v1/cases", data=body, headers=staff_api)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["errors"][0]["pointer"] == pointer
    assert _cases(app) == before


def test_unstorable_characters_in_a_json_key_are_refused(client, staff_api):
    body = _case_body('{"no\\u0000te":"x"}')
    response = client.post("/api/v1/cases", data=body, headers=staff_api)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["pointer"].startswith("/data/")


@pytest.mark.parametrize("version", [2**63, 2**64 + 1, -(2**63) - 1, 10**30])
def test_a_version_number_beyond_any_column_is_refused(client, admin_api, version):
    body = json.dumps({"version": version})
    response = client.post("/api/v1/processes/deduction/publish", data=body, headers=admin_api)
    assert response.status_code in (404, 422), response.get_data(as_text=True)
    assert response.get_json()["errors"][0]["message"]


def test_an_integer_of_thousands_of_digits_is_refused(client, staff_api):
    response = client.post(
        "/api/v1/cases", data=_case_body('{"amount":' + "9" * 5000 + "}"), headers=staff_api
    )
    assert response.status_code in (400, 422)


# --- paths, query strings and forms --------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/a%00b",
        "/customers/a%00b",
        "/processes/a%00b",
        "/cases/?q=a%00b",
        "/cases/?state=%00",
    ],
)
def test_nul_in_a_path_or_query_is_refused(app, demo, client, staff_api, path):
    client.login("admin", DEMO_PASSWORD)
    response = client.get(
        path, headers={"Authorization": staff_api["Authorization"]} if "/api/" in path else {}
    )
    assert response.status_code in (400, 404), response.get_data(as_text=True)


def test_nul_in_the_login_username_is_refused_not_a_500(app, demo, client):
    response = client.login("adm\x00in")
    assert response.status_code in (200, 400, 422)
    assert response.status_code != 500


def test_a_long_username_at_login_is_refused_not_a_500(app, demo, client):
    response = client.login("x" * 200)
    assert response.status_code in (200, 400, 422)


def test_nul_in_a_form_field_names_the_field(app, demo, client):
    client.login("staff", DEMO_PASSWORD)
    response = client.post_form(
        "/cases/new?process=deduction&customer=C001", {"/reason": "a\x00b", "case_action": "draft"}
    )
    assert response.status_code == 400
    assert "/reason" in response.get_data(as_text=True)
    assert _cases(app) == 0


def test_nul_in_an_action_comment_is_refused_and_nothing_changes(app, demo, client, staff_api):
    created = client.post("/api/v1/cases", data=_case_body('{"amount":10}'), headers=staff_api)
    case_id = created.get_json()["id"]
    client.login("staff", DEMO_PASSWORD)
    response = client.post_form(
        f"/cases/{case_id}/actions/submit", {"comment": "a\x00b"}, token_page=f"/cases/{case_id}"
    )
    assert response.status_code == 400 and "comment" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Case, case_id).state == "draft"


def test_nul_in_a_customer_name_over_the_api_names_the_member(app, client, admin_api):
    body = json.dumps({"code": "C900", "name": "a\u0000b", "tier": "A"})
    response = client.post("/api/v1/customers", data=body, headers=admin_api)
    assert response.status_code == 422 and response.get_json()["errors"][0]["pointer"] == "/name"


@pytest.mark.parametrize(
    "control",
    [
        {"__add": "not a path"},
        {"__add": "/no/such"},
        {"__remove": "no slash"},
        {"__remove": "/items/99999999999999999999999999"},
        {"__remove": ""},
        {"__rows:/items": "9" * 4300},
        {"__rows:/items": "9" * 5000},
        {"__alt:/x": "9" * 4300},
    ],
)
def test_form_controls_with_nonsense_values_are_not_a_500(app, demo, client, control):
    client.login("staff", DEMO_PASSWORD)
    response = client.post_form("/cases/new?process=deduction&customer=C001", {"/reason": "x", **control})
    assert response.status_code in (200, 400, 422), response.get_data(as_text=True)[:500]


@pytest.mark.parametrize(
    "path", ["/api/v1/cases/99999999999", "/cases/99999999999", "/cases/2147483648/edit"]
)
def test_an_id_beyond_any_row_is_not_found(demo, client, staff_api, path):
    client.login("admin", DEMO_PASSWORD)
    response = client.get(
        path, headers={"Authorization": staff_api["Authorization"]} if "/api/" in path else {}
    )
    assert response.status_code == 404


def test_a_multipart_part_without_a_name_is_not_a_500(demo, client, staff_api):
    body = b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n"
    headers = {"Authorization": staff_api["Authorization"], "Content-Type": "multipart/form-data; boundary=b"}
    response = client.post("/api/v1/attachments", data=body, headers=headers)
    assert 400 <= response.status_code < 500
