"""The navigation bar: each entry shows only to users holding its permission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from formflow.auth.permissions import can


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    permission: str
    #: a number shown beside the label (e.g. the inbox's waiting cases), or None
    count: Callable[[], int] | None = None


def _inbox_count() -> int:
    from formflow.workflows import inbox

    try:
        return inbox.count_for(current_user)
    except SQLAlchemyError:
        # a badge must never break the page around it (the error page included)
        return 0


def _notifications_count() -> int:
    from formflow.workflows import notify

    try:
        return notify.unread_count(current_user)
    except SQLAlchemyError:
        return 0  # as the inbox's: a badge never breaks the page around it


NAV = (
    NavItem("home.index", _l("Home"), "home.view"),
    NavItem("workflow.inbox", _l("Inbox"), "cases.act", count=_inbox_count),
    NavItem("notifications.index", _l("Notifications"), "home.view", count=_notifications_count),
    NavItem("cases.index", _l("Cases"), "cases.read"),
    NavItem("customers.index", _l("Customers"), "customers.read"),
    NavItem("notices.index", _l("Notices"), "cases.read"),
    NavItem("billing.index", _l("Management fees"), "billing.read"),
    NavItem("reconcile.index", _l("Reconciliation"), "reconcile.read"),
    NavItem("home.dashboard", _l("Dashboard"), "dashboard.read"),
    NavItem("processes.index", _l("Processes"), "processes.read"),
    NavItem("tables.index", _l("Parameter tables"), "processes.read"),
    NavItem("audit.index", _l("Audit log"), "audit.read"),
    NavItem("admin.users", _l("Users"), "users.manage"),
)


def nav_items() -> list[NavItem]:
    return [item for item in NAV if can(current_user, item.permission)]
