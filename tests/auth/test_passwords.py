"""The password policy, wherever a password is set: admin create and reset, CLI, own change.

Issue 11 item 5: "password", the username, "aaaaaaaa" and eight zero-width characters were
all accepted (only len() >= 8 was checked).
"""

from __future__ import annotations

import pytest
from support import PASSWORD

from formflow.auth import passwords, services
from formflow.demo import DEMO_PASSWORD
from formflow.errors import Invalid
from formflow.extensions import db

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u200b\u200c\u200d"

REFUSED = [
    ("short", "at least 8 characters"),
    (ZERO_WIDTH, "at least 8 characters"),
    ("abc\u200b\u200b\u200b\u200b\u200b\u200b", "at least 8 characters"),  # 3 characters after all
    ("aaaaaaaaaaaa", "one character repeated"),
    ("１１１１１１１１", "one character repeated"),  # full-width digits are 1s after NFKC
    ("Alice-Admin", "must not be the username"),
    ("password", "commonly used"),
    ("Password1", "commonly used"),
    ("ｐａｓｓｗｏｒｄ１", "commonly used"),  # full-width
    ("pass\u200bword1", "commonly used"),  # a zero-width space inside
    ("qwertyuiop", "commonly used"),
    ("woaini1314", "commonly used"),  # from the Chinese list
]


@pytest.mark.parametrize(("password", "message"), REFUSED)
def test_refused_passwords(app, password, message):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        problems = passwords.problems(password, username="alice-admin")
    assert [p["pointer"] for p in problems] == ["/password"]
    assert message in problems[0]["message"]


@pytest.mark.parametrize("password", [PASSWORD, "Tr0ub4dor&3x", "长城长城长城长城", "alice-admin-2026"])
def test_accepted_passwords(app, password):
    with app.test_request_context():
        assert passwords.problems(password, username="alice-admin") == []


def test_the_list_ships_with_the_package_and_holds_thousands():
    from importlib.resources import files

    shipped = files("formflow.auth").joinpath("common-passwords.txt").read_text(encoding="utf-8")
    entries = shipped.splitlines()
    assert len(entries) > 5000 and "password" in entries and "woaini1314" in entries
    assert all(len(entry) >= passwords.MIN_LENGTH and entry == entry.lower() for entry in entries)
    assert files("formflow.auth").joinpath("common-passwords.SOURCE").is_file()


def test_admin_create_shows_the_policy_at_the_field_and_stores_nothing(app, login_as):
    admin = login_as("admin")
    admin.get("/lang/en")
    response = admin.post_form(
        "/admin/users/new", {"username": "carol", "password": "password1", "roles": ["staff"]}
    )
    body = response.get_data(as_text=True)
    assert 'id="password-error"' in body and "commonly used" in body
    with app.app_context():
        assert services.find_user("carol") is None


def test_admin_reset_refuses_a_common_password(app, login_as, make_user):
    bob = make_user("bob")
    admin = login_as("admin")
    admin.get("/lang/en")
    response = admin.post_form(f"/admin/users/{bob}/password", {"password": "iloveyou1"})
    assert response.status_code == 422 and "commonly used" in response.get_data(as_text=True)
    assert admin.login("bob").status_code == 302  # the old password still works


def test_own_change_refuses_the_username_at_the_new_password_field(client, make_user):
    make_user("alice-smith")
    client.get("/lang/en")
    client.login("alice-smith")
    response = client.post_form(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "ALICE-SMITH", "confirm": "ALICE-SMITH"},
    )
    body = response.get_data(as_text=True)
    assert 'id="new_password-error"' in body and "must not be the username" in body


def test_cli_create_user_applies_the_policy(app, cli):
    result = app.test_cli_runner().invoke(
        args=["formflow", "create-user", "dave", "--role", "staff", "--password", "12345678"]
    )
    assert result.exit_code == 1 and "/password" in result.output
    with app.app_context():
        assert services.find_user("dave") is None
    ok = cli("create-user", "dave", "--role", "staff", "--password", PASSWORD)
    assert ok.exit_code == 0


def test_demo_users_keep_their_short_password_only_through_the_explicit_flag(app, client):
    with app.app_context():
        with pytest.raises(Invalid):
            services.create_user("demo-staff", DEMO_PASSWORD, ["staff"])
        services.create_user("demo-staff", DEMO_PASSWORD, ["staff"], enforce_password_policy=False)
        db.session.commit()
    assert client.login("demo-staff", DEMO_PASSWORD).status_code == 302
