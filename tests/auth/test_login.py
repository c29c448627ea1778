"""Logging in and out: generic messages, lockout, remember me, sessions that end."""

from __future__ import annotations

import re

import pytest
from support import PASSWORD

from formflow.auth import services
from formflow.extensions import db

GENERIC = "用户名或密码错误。"


def test_demo_style_login_and_logout(client, make_user):
    make_user("alice", roles=["finance"])
    response = client.login("alice")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "alice" in home.get_data(as_text=True)
    logout = client.post_form("/auth/logout")
    assert logout.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("username", ["alice", "nobody-here"])
def test_wrong_password_and_unknown_user_get_the_same_message(client, make_user, username):
    make_user("alice")
    response = client.login(username, "wrong-password")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert GENERIC in body
    assert "nobody-here" not in body.replace('value="nobody-here"', "")


@pytest.mark.parametrize("username", ["alice", "nobody-here"])
def test_lockout_after_repeated_failures_whether_or_not_the_user_exists(client, make_user, username):
    make_user("alice")
    for _attempt in range(5):
        assert GENERIC in client.login(username, "wrong").get_data(as_text=True)
    locked = client.login(username, PASSWORD).get_data(as_text=True)
    assert "失败次数过多" in locked
    assert client.get("/").status_code == 302  # not logged in, even with the right password


def test_lock_expires(app, client, make_user):
    from datetime import timedelta

    from formflow.auth.models import LoginThrottle

    make_user("alice")
    for _attempt in range(5):
        client.login("alice", "wrong")
    with app.app_context():
        throttle = db.session.execute(
            db.select(LoginThrottle).where(LoginThrottle.username_key == "alice")
        ).scalar_one()
        throttle.locked_until -= timedelta(minutes=16)
        db.session.commit()
    assert client.login("alice").status_code == 302


def test_success_resets_the_failure_count(client, make_user):
    make_user("alice")
    for _attempt in range(4):
        client.login("alice", "wrong")
    assert client.login("alice").status_code == 302
    client.post_form("/auth/logout")
    for _attempt in range(4):
        client.login("alice", "wrong")
    assert client.login("alice").status_code == 302


def test_deactivated_user_cannot_log_in_and_loses_the_session(app, client, make_user, login_as):
    user_id = make_user("alice")
    assert client.login("alice").status_code == 302
    with app.app_context():
        services.set_active(services.get_user(user_id), False)
        db.session.commit()
    assert client.get("/").status_code == 302
    assert GENERIC in client.login("alice").get_data(as_text=True)


def test_remember_me_sets_a_cookie_that_survives_the_session(app, client, make_user):
    make_user("alice")
    response = client.login("alice", remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("remember_token=") for c in cookies)
    remember = next(c for c in cookies if c.startswith("remember_token=")).split(";")[0].split("=", 1)[1]
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/").status_code == 200


def test_password_reset_ends_existing_sessions_and_remember_cookies(app, client, make_user):
    user_id = make_user("alice")
    response = client.login("alice", remember="y")
    remember = (
        next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
        .split(";")[0]
        .split("=", 1)[1]
    )
    with app.app_context():
        services.reset_password(services.get_user(user_id), "another-pass-1")
        db.session.commit()
    assert client.get("/").status_code == 302
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_next_never_leaves_the_site(client, make_user, target):
    make_user("alice")
    response = client.login("alice", next=target)
    assert response.headers["Location"] == "/"


def test_next_within_the_site_is_followed(client, make_user):
    make_user("alice")
    assert client.login("alice", next="/customers/").headers["Location"] == "/customers/"


def test_change_own_password(client, make_user):
    make_user("alice")
    client.login("alice")
    bad = client.post_form(
        "/account/password",
        {"current_password": "nope", "new_password": "new-password-1", "confirm": "new-password-1"},
    )
    assert "当前密码不正确" in bad.get_data(as_text=True)
    short = client.post_form(
        "/account/password", {"current_password": PASSWORD, "new_password": "short", "confirm": "short"}
    )
    assert "至少需要 8 个字符" in short.get_data(as_text=True)
    ok = client.post_form(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "new-password-1", "confirm": "new-password-1"},
    )
    assert ok.status_code == 302
    assert client.get("/").status_code == 200  # still logged in after the change
    client.post_form("/auth/logout")
    assert client.login("alice", "new-password-1").status_code == 302


def test_login_page_has_a_csrf_token_and_password_field(client):
    body = client.get("/auth/login").get_data(as_text=True)
    assert re.search(r'name="csrf_token"', body)
    assert 'type="password"' in body


def test_login_is_audited_without_secrets(app, client, make_user):
    from formflow.audit.models import AuditEntry

    make_user("alice")
    client.login("alice", "wrong-secret")
    client.login("alice")
    with app.app_context():
        rows = db.session.execute(db.select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        actions = [r.action for r in rows]
        dump = repr([(r.before, r.after) for r in rows])
    assert "auth.login_failed" in actions and "auth.login" in actions
    assert "wrong-secret" not in dump and PASSWORD not in dump
