"""`require` is the one permission check; `can` answers the same question quietly."""

from __future__ import annotations

import pytest

from formflow.auth import services
from formflow.auth.permissions import PERMISSIONS, ROLES, can, require
from formflow.errors import Forbidden, Unauthorized


def test_every_permission_names_known_roles():
    for roles in PERMISSIONS.values():
        assert roles <= set(ROLES)


def test_require(app_ctx, make_user):
    auditor = services.get_user(make_user("aud", roles=["auditor"]))
    both = services.get_user(make_user("both", roles=["auditor", "admin"]))
    require(auditor, "audit.read")
    with pytest.raises(Forbidden):
        require(auditor, "users.manage")
    require(both, "users.manage")  # a user may hold several roles
    with pytest.raises(Unauthorized):
        require(None, "audit.read")
    with pytest.raises(KeyError):
        can(auditor, "no.such.permission")


def test_inactive_user_can_do_nothing(app_ctx, make_user):
    admin = services.get_user(make_user("adm", roles=["admin"]))
    make_user("adm2", roles=["admin"])
    services.set_active(admin, False)
    assert not can(admin, "home.view")
    with pytest.raises(Forbidden):
        require(admin, "home.view")


def test_object_rules_are_registered_by_the_packages_that_own_the_objects(app):
    """auth knows no case: cases and workflows register the rules of who reads and edits one
    (their permission_rules modules, imported by the app factory), one rule per permission."""
    from formflow.auth.permissions import OBJECT_PERMISSIONS, object_rule

    for permission in OBJECT_PERMISSIONS:
        with pytest.raises(ValueError, match="already has an object rule"):
            object_rule(permission)(lambda user, obj: True)
    with pytest.raises(KeyError):
        object_rule("home.view")(lambda user, obj: True)


def test_an_object_permission_without_its_rule_is_refused_not_allowed(app_ctx, make_user, monkeypatch):
    from formflow.auth import permissions

    staff = services.get_user(make_user("stf", roles=["staff"]))
    monkeypatch.delitem(permissions._object_rules, "cases.read")
    assert can(staff, "cases.read")  # the role holds it; no object to ask about
    with pytest.raises(LookupError, match=r"cases\.read"):
        can(staff, "cases.read", object())
