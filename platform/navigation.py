"""The navigation bar: each entry shows only to users holding its permission."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from formflow.auth.permissions import can


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    permission: str


NAV = (
    NavItem("home.index", _l("Home"), "home.view"),
    NavItem("cases.index", _l("Cases"), "cases.read"),
    NavItem("customers.index", _l("Customers"), "customers.read"),
    NavItem("processes.index", _l("Processes"), "processes.read"),
    NavItem("tables.index", _l("Parameter tables"), "processes.read"),
    NavItem("audit.index", _l("Audit log"), "audit.read"),
    NavItem("admin.users", _l("Users"), "users.manage"),
)


def nav_items() -> list[NavItem]:
    return [item for item in NAV if can(current_user, item.permission)]
