"""What each role sees on its home page: what is waiting, and where to go."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from formflow.auth.permissions import can


@dataclass
class Panel:
    title: object
    body: object
    links: list[tuple[str, object]] = field(default_factory=list)


def panels_for(user) -> list[Panel]:
    """Panels in order; what waits for the user comes first."""
    panels = [_waiting_panel(user)]
    if can(user, "customers.read"):
        panels.append(
            Panel(
                _l("Customers"),
                _l("Look up a customer's tier and status."),
                [("customers.index", _l("Customers"))],
            )
        )
    if can(user, "audit.read"):
        panels.append(
            Panel(
                _l("Audit log"),
                _l("Every change, hash-chained; filter, verify, export."),
                [("audit.index", _l("Audit log")), ("audit.verify", _l("Verify the chain"))],
            )
        )
    if can(user, "users.manage"):
        panels.append(
            Panel(
                _l("Administration"),
                _l("Users, roles and API tokens."),
                [("admin.users", _l("Users")), ("admin.user_new", _l("New user"))],
            )
        )
    return panels


def _waiting_panel(user) -> Panel:
    """The inbox's count, from the same source as the navigation's badge."""
    from formflow.workflows import inbox

    waiting = inbox.count_for(user) if can(user, "cases.act") else 0
    if not waiting:
        return Panel(_l("Waiting for me"), _l("Nothing is waiting for you."))
    body = _l("%(n)d cases are waiting for you.", n=waiting)
    return Panel(_l("Waiting for me"), body, [("workflow.inbox", _l("Open the inbox"))])
