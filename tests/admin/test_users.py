"""Admins create, edit, (de)activate users, assign roles, reset passwords, manage tokens."""

from __future__ import annotations

import re

import sqlalchemy as sa
from forms.browser_post import browser_post

from formflow.audit.models import AuditEntry
from formflow.auth import services
from formflow.auth.models import ApiToken
from formflow.extensions import db


def _audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.seq)).scalars())


def _user(app, username):
    with app.app_context():
        user = services.find_user(username)
        return user and {"id": user.id, "roles": user.role_names, "active": user.active}


def test_create_user_with_several_roles(app, login_as):
    admin = login_as("admin")
    response = admin.post_form(
        "/admin/users/new",
        {
            "username": "bob",
            "password": "bob-password-1",
            "roles": ["finance", "manager"],
            "display_name": "Bob",
        },
    )
    assert response.status_code == 302
    assert _user(app, "bob")["roles"] == ["finance", "manager"]
    assert "user.create" in _audit_actions(app)
    assert admin.login("bob", "bob-password-1").status_code == 302


def test_create_user_errors_show_next_to_the_fields_and_store_nothing(app, login_as):
    admin = login_as("admin")
    response = admin.post_form(
        "/admin/users/new", {"username": "x y", "password": "short", "roles": ["finance"], "email": "bad"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请使用 2–80 个字母" in body and "至少需要 8 个字符" in body
    assert 'aria-invalid="true"' in body
    assert 'value="x y"' in body  # the input is kept
    assert _user(app, "x y") is None


def test_duplicate_username_is_refused(app, login_as, make_user):
    make_user("bob")
    admin = login_as("admin")
    response = admin.post_form("/admin/users/new", {"username": "BOB", "password": "long-enough-1"})
    assert "该用户名已被占用" in response.get_data(as_text=True)


def test_edit_roles_is_audited_with_before_and_after(app, login_as, make_user):
    bob = make_user("bob", roles=["staff"])
    admin = login_as("admin")
    response = admin.post_form(f"/admin/users/{bob}", {"display_name": "Bob B", "roles": ["risk", "staff"]})
    assert response.status_code == 302
    assert _user(app, "bob")["roles"] == ["risk", "staff"]
    with app.app_context():
        entry = db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.action == "user.update")
        ).scalar_one()
        assert entry.before["roles"] == ["staff"] and entry.after["roles"] == ["risk", "staff"]
        assert entry.actor_name == admin.username


def test_edit_page_shows_the_current_roles_checked(login_as, make_user):
    bob = make_user("bob", roles=["finance", "risk"])
    page = login_as("admin").get(f"/admin/users/{bob}").get_data(as_text=True)
    checked = set(
        re.findall(r'<input checked id="roles-\d+" name="roles" type="checkbox" value="(\w+)"', page)
    )
    assert checked == {"finance", "risk"}


def test_unknown_role_is_refused(app, login_as, make_user):
    bob = make_user("bob", roles=["staff"])
    admin = login_as("admin")
    response = admin.post_form(f"/admin/users/{bob}", {"roles": ["wizard"]})
    assert response.status_code == 200
    assert _user(app, "bob")["roles"] == ["staff"]


def test_deactivate_and_activate(app, login_as, make_user):
    bob = make_user("bob")
    admin = login_as("admin")
    assert admin.post_form(f"/admin/users/{bob}/deactivate").status_code == 302
    assert _user(app, "bob")["active"] is False
    assert admin.post_form(f"/admin/users/{bob}/activate").status_code == 302
    assert _user(app, "bob")["active"] is True
    assert {"user.deactivate", "user.activate"} <= set(_audit_actions(app))


def test_admin_cannot_deactivate_themselves(app, login_as):
    admin = login_as("admin")
    me = _user(app, admin.username)["id"]
    response = admin.post_form(f"/admin/users/{me}/deactivate")
    assert response.status_code == 409
    assert "不能停用自己的账号" in response.get_data(as_text=True)
    assert _user(app, admin.username)["active"] is True


def test_the_last_admin_keeps_the_admin_role(app, login_as):
    admin = login_as("admin")
    me = _user(app, admin.username)["id"]
    response = admin.post_form(f"/admin/users/{me}", {"roles": ["staff"]})
    assert response.status_code == 409
    assert _user(app, admin.username)["roles"] == ["admin"]


def test_reset_password(app, login_as, make_user):
    bob = make_user("bob")
    admin = login_as("admin")
    too_short = admin.post_form(f"/admin/users/{bob}/password", {"password": "x"})
    assert too_short.status_code == 422
    assert admin.post_form(f"/admin/users/{bob}/password", {"password": "fresh-pass-99"}).status_code == 302
    assert admin.login("bob", "fresh-pass-99").status_code == 302


def test_token_is_shown_once_stored_hashed_and_revocable(app, login_as, make_user):
    bob = make_user("bob")
    admin = login_as("admin")
    page = admin.post_form(f"/admin/users/{bob}/tokens", {"name": "erp"}).get_data(as_text=True)
    plain = re.search(r'data-testid="new-token">([^<]+)<', page).group(1)
    assert admin.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    assert plain not in admin.get(f"/admin/users/{bob}").get_data(as_text=True)
    with app.app_context():
        token = db.session.execute(sa.select(ApiToken)).scalar_one()
        assert token.token_hash != plain and plain not in token.token_hash
        token_id = token.id
    assert admin.post_form(f"/admin/tokens/{token_id}/revoke").status_code == 302
    assert admin.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_missing_user_is_a_404_page(login_as):
    response = login_as("admin").get("/admin/users/999999")
    assert response.status_code == 404
    assert "用户不存在" in response.get_data(as_text=True)


def _form_fields(page: str, action: str):
    """What the browser posts for the form on `page` that submits to `action`."""
    match = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert match, f"no form posting to {action}"
    return browser_post(match.group(1))


def test_creating_a_token_then_saving_the_page_keeps_the_roles(app, login_as, make_user):
    bob = make_user("bob", roles=["finance", "risk"], display_name="Bob B")
    admin = login_as("admin")
    page = admin.post_form(f"/admin/users/{bob}/tokens", {"name": "erp"}).get_data(as_text=True)
    assert 'data-testid="new-token"' in page
    fields = _form_fields(page, f"/admin/users/{bob}")
    assert sorted(fields.getlist("roles")) == ["finance", "risk"]
    saved = admin.post(f"/admin/users/{bob}", data=fields, follow_redirects=True)
    assert saved.status_code == 200 and "已保存" in saved.get_data(as_text=True)
    assert _user(app, "bob")["roles"] == ["finance", "risk"]
    with app.app_context():
        assert services.get_user(bob).display_name == "Bob B"


def test_a_refused_password_reset_then_saving_the_page_keeps_the_roles(app, login_as, make_user):
    bob = make_user("bob", roles=["finance"])
    admin = login_as("admin")
    response = admin.post_form(f"/admin/users/{bob}/password", {"password": "x"})
    assert response.status_code == 422
    fields = _form_fields(response.get_data(as_text=True), f"/admin/users/{bob}")
    assert fields.getlist("roles") == ["finance"]
    admin.post(f"/admin/users/{bob}", data=fields, follow_redirects=True)
    assert _user(app, "bob")["roles"] == ["finance"]


def test_reactivating_a_user_does_not_revive_their_api_tokens(app, login_as, make_user):
    """Issue 11 item 4: deactivating only hid the tokens; activating brought them back."""
    bob = make_user("bob")
    admin = login_as("admin")
    page = admin.post_form(f"/admin/users/{bob}/tokens", {"name": "erp"}).get_data(as_text=True)
    plain = re.search(r'data-testid="new-token">([^<]+)<', page).group(1)
    bearer = {"Authorization": f"Bearer {plain}"}
    assert admin.get("/api/v1/me", headers=bearer).status_code == 200
    assert admin.post_form(f"/admin/users/{bob}/deactivate").status_code == 302
    assert admin.get("/api/v1/me", headers=bearer).status_code == 401
    assert admin.post_form(f"/admin/users/{bob}/activate").status_code == 302
    assert admin.get("/api/v1/me", headers=bearer).status_code == 401
    with app.app_context():
        token = db.session.execute(sa.select(ApiToken)).scalar_one()
        assert token.revoked_at is not None
    assert "token.revoke" in _audit_actions(app)
    # a new token works again after reactivation
    page = admin.post_form(f"/admin/users/{bob}/tokens", {"name": "erp2"}).get_data(as_text=True)
    fresh = re.search(r'data-testid="new-token">([^<]+)<', page).group(1)
    assert admin.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
