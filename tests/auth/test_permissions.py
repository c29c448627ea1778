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
