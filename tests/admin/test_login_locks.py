"""Admins see locked logins and lift them (audited, POST with CSRF, admins only); so does the CLI."""

from __future__ import annotations

import re

import sqlalchemy as sa
from conftest import Client

from formflow.audit.models import AuditEntry
from formflow.auth.models import LoginThrottle
from formflow.extensions import db


def _from(app, address: str) -> Client:
    client = Client(app.test_client())
    client.raw.environ_base["REMOTE_ADDR"] = address
    return client


def _lock(app, username: str, address: str = "203.0.113.30") -> Client:
    attacker = _from(app, address)
    for _attempt in range(6):
        attacker.login(username, "guess")
    return attacker


def _unlock_actions(app) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "auth.unlock")).scalars()
        return [(row.object_id, row.before, row.actor_name) for row in rows]


def test_the_users_page_lists_locks_and_an_admin_lifts_one(app, login_as, make_user):
    make_user("alice")
    attacker = _lock(app, "alice")
    admin = login_as("admin")
    page = admin.get("/admin/users").get_data(as_text=True)
    table = re.search(r'data-testid="login-locks".*?</table>', page, re.S).group(0)
    assert "alice" in table and "203.0.113.30" in table
    action = re.search(r'action="(/admin/login-locks/\d+/unlock)"', table).group(1)
    assert admin.post_form(action).status_code == 302
    assert attacker.login("alice").status_code == 302
    [(object_id, before, actor)] = _unlock_actions(app)
    assert object_id == "alice" and before["address"] == "203.0.113.30" and actor == admin.username
    assert "203.0.113.30" not in admin.get("/admin/users").get_data(as_text=True)


def test_an_address_lock_shows_as_every_username_and_can_be_lifted(app, login_as, make_user):
    make_user("alice")
    sprayer = _from(app, "203.0.113.31")
    for n in range(21):
        sprayer.login(f"nobody-{n}", "guess")
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get("/admin/users").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td><em>Every username</em></td>.*?</tr>", page, re.S).group(0)
    assert "203.0.113.31" in row
    admin.post_form(re.search(r'action="([^"]+/unlock)"', row).group(1))
    assert sprayer.login("alice").status_code == 302


def test_the_user_page_shows_the_locks_and_lifts_them_all(app, login_as, make_user):
    alice = make_user("alice")
    one, two = _lock(app, "alice", "203.0.113.32"), _lock(app, "alice", "203.0.113.33")
    admin = login_as("admin")
    page = admin.get(f"/admin/users/{alice}").get_data(as_text=True)
    locks = re.search(r'data-testid="user-locks".*?</div>', page, re.S).group(0)
    assert "203.0.113.32" in locks and "203.0.113.33" in locks
    assert admin.post_form(f"/admin/users/{alice}/unlock").status_code == 302
    assert one.login("alice").status_code == 302 and two.login("alice").status_code == 302
    lifted = {before["address"] for _id, before, _actor in _unlock_actions(app)}
    assert lifted == {"203.0.113.32", "203.0.113.33"}


def test_the_user_page_lists_open_sessions(app, login_as, make_user):
    alice = make_user("alice")
    _from(app, "198.51.100.40").login("alice")
    page = login_as("admin").get(f"/admin/users/{alice}").get_data(as_text=True)
    sessions = re.search(r'data-testid="user-sessions".*?</table>', page, re.S).group(0)
    assert "198.51.100.40" in sessions


def test_unlocking_needs_csrf_and_the_admin_role(app, login_as, make_user):
    alice = make_user("alice")
    _lock(app, "alice")
    with app.app_context():
        lock_id = db.session.execute(
            sa.select(LoginThrottle.id).where(LoginThrottle.username_key == "alice")
        ).scalar_one()
    admin = login_as("admin")
    assert admin.raw.post(f"/admin/login-locks/{lock_id}/unlock").status_code == 400  # no CSRF token
    assert admin.raw.post(f"/admin/users/{alice}/unlock").status_code == 400
    staff = login_as("staff")
    assert staff.post_form(f"/admin/login-locks/{lock_id}/unlock").status_code == 403
    assert staff.post_form(f"/admin/users/{alice}/unlock").status_code == 403
    assert _unlock_actions(app) == []


def test_a_lock_already_lifted_is_a_404(login_as):
    assert login_as("admin").post_form("/admin/login-locks/999999999/unlock").status_code == 404


def test_cli_unlock(app, cli, make_user):
    make_user("alice")
    attacker = _lock(app, "alice")
    assert attacker.login("alice").status_code == 200  # locked
    result = cli("unlock", "alice")
    assert result.exit_code == 0 and "Lifted 1" in result.output
    assert attacker.login("alice").status_code == 302
    assert app.test_cli_runner().invoke(args=["formflow", "unlock"]).exit_code == 2
