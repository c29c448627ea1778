"""Error pages and JSON errors: right status, a clear message, never a traceback."""

from __future__ import annotations

import pytest
from support import fresh_database, make_app

from formflow.errors import Conflict, DomainError, Forbidden, Invalid, NotFound


def test_the_hierarchy_carries_status_codes():
    assert (NotFound.status, Forbidden.status, Invalid.status, Conflict.status) == (404, 403, 422, 409)
    assert all(issubclass(cls, DomainError) for cls in (NotFound, Forbidden, Invalid, Conflict))
    invalid = Invalid([{"pointer": "/amount", "message": "too big"}])
    assert invalid.errors == [{"pointer": "/amount", "message": "too big"}]
    assert str(invalid) == "too big"


def test_unknown_url_is_a_404_page(client):
    response = client.get("/no/such/page")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "您访问的页面不存在" in body and "<html" in body


def test_request_over_the_size_limit_is_a_413_page(app, client):
    too_big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/auth/login", data={"username": too_big, "password": "x"})
    assert response.status_code == 413
    assert "上传内容超过允许的大小" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, make_user):
    make_user("alice")
    response = client.post("/auth/login", data={"username": "alice", "password": "correct-horse-9"})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in


def test_logged_in_post_without_csrf_token_changes_nothing(app, login_as, make_user):
    from formflow.auth import services

    bob = make_user("bob")
    admin = login_as("admin")
    response = admin.post(f"/admin/users/{bob}/deactivate")
    assert response.status_code == 400
    with app.app_context():
        assert services.get_user(bob).active is True


@pytest.fixture
def crashing_app(tmp_path):
    """An app with a route that fails, for the 500 page (TESTING off so handlers run)."""
    with fresh_database(tmp_path) as database:
        crashing = make_app(database, tmp_path, TESTING=False, PROPAGATE_EXCEPTIONS=False)

        @crashing.route("/boom")
        def boom():
            raise RuntimeError("secret internal detail")

        @crashing.route("/api/v1/boom")
        def api_boom():
            raise RuntimeError("secret internal detail")

        yield crashing


def test_500_page_and_json_never_show_a_traceback(crashing_app, caplog):
    client = crashing_app.test_client()
    page = client.get("/boom")
    assert page.status_code == 500
    body = page.get_data(as_text=True)
    assert "系统内部出错" in body
    assert "Traceback" not in body and "secret internal detail" not in body
    api = client.get("/api/v1/boom")
    assert api.status_code == 500 and "secret" not in api.get_data(as_text=True)
    assert "secret internal detail" in caplog.text  # but it is logged


def test_every_response_carries_a_request_id_and_security_headers(client):
    response = client.get("/auth/login", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    forged = client.get("/auth/login", headers={"X-Request-ID": "<script>"})
    assert forged.headers["X-Request-ID"] != "<script>"


def test_admin_text_is_escaped(app, login_as, make_user):
    make_user("eve", display_name="<script>alert(1)</script>")
    page = login_as("admin").get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
