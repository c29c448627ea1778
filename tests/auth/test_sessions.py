"""Sessions end on the server: logout, replayed cookies, remember me for 30 days, no-store.

Issue 11 item 4: a session cookie or remember_token copied before logout still let its holder
in afterwards (Flask's cookie session has nothing on the server to revoke); "remember me"
lasted 365 days; reactivating a user revived their API tokens; pages had no Cache-Control.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from support import PASSWORD

from formflow.auth import services
from formflow.auth.models import UserSession
from formflow.extensions import db, utcnow


def _cookie(client, name: str) -> str | None:
    cookie = client.raw.get_cookie(name)
    return cookie.value if cookie else None


def _replay(app, **cookies):
    """A fresh browser holding only these cookies, asking for the home page."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser.get("/")


def _is_login_page(response) -> bool:
    return response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_session_cookie_replayed_after_logout_gets_the_login_page(app, client, make_user):
    make_user("alice")
    client.login("alice")
    copied = _cookie(client, "session")
    assert _replay(app, session=copied).status_code == 200  # the copy works while logged in
    client.post_form("/auth/logout")
    assert _is_login_page(_replay(app, session=copied))


def test_a_remember_token_replayed_after_logout_gets_the_login_page(app, client, make_user):
    make_user("alice")
    client.login("alice", remember="y")
    remember = _cookie(client, "remember_token")
    assert remember and _replay(app, remember_token=remember).status_code == 200
    client.post_form("/auth/logout")
    assert _is_login_page(_replay(app, remember_token=remember))


def test_logging_out_on_one_browser_keeps_the_other_logged_in(app, client, make_user):
    make_user("alice")
    laptop, phone = client, type(client)(app.test_client())
    laptop.login("alice")
    phone.login("alice")
    laptop.post_form("/auth/logout")
    assert _is_login_page(laptop.get("/"))
    assert phone.get("/").status_code == 200


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, client, make_user):
    make_user("alice")
    other = type(client)(app.test_client())
    other.login("alice", remember="y")
    other_remember = _cookie(other, "remember_token")
    client.login("alice")
    changed = client.post_form(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "new-password-1", "confirm": "new-password-1"},
    )
    assert changed.status_code == 302
    assert client.get("/").status_code == 200
    assert _is_login_page(other.get("/"))
    assert _is_login_page(_replay(app, remember_token=other_remember))


def test_deactivation_ends_every_session_and_reactivation_revives_none(app, client, make_user, login_as):
    bob = make_user("bob")
    client.login("bob", remember="y")
    copied, remember = _cookie(client, "session"), _cookie(client, "remember_token")
    admin = login_as("admin")
    admin.post_form(f"/admin/users/{bob}/deactivate")
    admin.post_form(f"/admin/users/{bob}/activate")
    assert _is_login_page(client.get("/"))
    assert _is_login_page(_replay(app, session=copied))
    assert _is_login_page(_replay(app, remember_token=remember))
    assert client.login("bob").status_code == 302  # a new login works


def test_remember_me_lasts_30_days_in_the_cookie_and_on_the_server(app, client, make_user):
    make_user("alice")
    response = client.login("alice", remember="y")
    header = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    expires = _cookie_expiry(header)
    assert timedelta(days=29, hours=23) < expires - utcnow() <= timedelta(days=30, minutes=1)
    remember = _cookie(client, "remember_token")
    with app.app_context():
        row = db.session.execute(sa.select(UserSession)).scalar_one()
        assert row.remember and row.expires_at - row.created_at == timedelta(days=30)
        row.expires_at = utcnow() - timedelta(seconds=1)  # the 30 days are over
        db.session.commit()
    assert _is_login_page(_replay(app, remember_token=remember))


def _cookie_expiry(header: str):
    from email.utils import parsedate_to_datetime

    expires = next(part for part in header.split(";") if part.strip().lower().startswith("expires="))
    return parsedate_to_datetime(expires.split("=", 1)[1]).replace(tzinfo=None)


def test_a_session_without_remember_me_ends_on_the_server_too(app, client, make_user):
    make_user("alice")
    client.login("alice")
    with app.app_context():
        row = db.session.execute(sa.select(UserSession)).scalar_one()
        assert not row.remember and row.expires_at - row.created_at == timedelta(hours=12)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert _is_login_page(client.get("/"))


def test_the_cookie_holds_a_random_key_not_the_user_id(app, client, make_user):
    """A cookie of the old form "<id>:<version>" (or any guess) names no session."""
    user_id = make_user("alice")
    client.login("alice", remember="y")
    with client.raw.session_transaction() as session:
        key = session["_user_id"]
        session["_user_id"] = f"{user_id}:1"
    assert str(user_id) not in key.split(":") and len(key) >= 40
    assert _is_login_page(_replay(app, session=_cookie(client, "session")))
    with app.app_context():
        assert db.session.execute(sa.select(UserSession.key_hash)).scalar_one() != key  # only its hash


def test_ended_sessions_are_dropped_at_the_next_login_and_by_the_tick_job(app, client, make_user):
    make_user("alice")
    make_user("bob")
    client.login("alice")
    client.post_form("/auth/logout")
    client.login("alice")  # drops alice's logged-out row
    bob = type(client)(app.test_client())
    bob.login("bob")
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(UserSession)).scalar_one() == 2
        report = services.purge_login_records(utcnow() + timedelta(hours=13))  # both have expired then
        db.session.commit()
        left = db.session.execute(sa.select(sa.func.count()).select_from(UserSession)).scalar_one()
    assert report.sessions == 2 and left == 0


# --- Cache-Control: no-store ------------------------------------------------------------------


def test_pages_of_a_logged_in_user_are_not_stored(login_as):
    staff = login_as("staff")
    for url in ("/", "/cases/", "/customers/", "/account/password"):
        assert staff.get(url).headers.get("Cache-Control") == "no-store", url


def test_api_responses_are_never_stored(app, client, make_user):
    user_id = make_user("alice")
    with app.app_context():
        plain, _token = services.create_token(services.get_user(user_id), "t")
        db.session.commit()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"
    for response in (client.get("/api/v1/me"), client.get("/api/v1/openapi.json")):
        assert response.headers["Cache-Control"] == "no-store"


def test_static_files_and_anonymous_pages_stay_cacheable(client, login_as):
    assert "no-store" not in (client.get("/auth/login").headers.get("Cache-Control") or "")
    staff = login_as("staff")
    static = staff.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in (static.headers.get("Cache-Control") or "")
    static.close()
