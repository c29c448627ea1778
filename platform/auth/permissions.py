"""Roles, what each may do, and `require`: the one way code checks access."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from formflow.errors import Forbidden, Unauthorized

ROLES: dict[str, object] = {
    "admin": _l("Administrator"),
    "staff": _l("Staff"),
    "finance": _l("Finance"),
    "manager": _l("Manager"),
    "risk": _l("Risk"),
    "auditor": _l("Auditor"),
}

EVERYONE = frozenset(ROLES)

#: permission -> roles that hold it. The single map of who may do what.
PERMISSIONS: dict[str, frozenset[str]] = {
    "home.view": EVERYONE,
    "account.edit_own": EVERYONE,
    "customers.read": EVERYONE,
    "customers.manage": frozenset({"admin", "staff"}),
    "customers.import": frozenset({"admin", "staff"}),
    "customers.tiers": frozenset({"admin"}),
    "customers.blacklist": frozenset({"admin", "risk", "manager"}),
    "users.manage": frozenset({"admin"}),
    "audit.read": frozenset({"admin", "auditor"}),
    "audit.export": frozenset({"admin", "auditor"}),
    "api.use": EVERYONE,
    "processes.read": frozenset({"admin", "auditor"}),
    "processes.manage": frozenset({"admin"}),
    "cases.read": EVERYONE,
    "cases.create": frozenset({"admin", "staff"}),
    "cases.edit": frozenset({"admin", "staff"}),
    # the workflow engine decides per action (roles, assignee, delegation); this only lets
    # a logged-in user reach the inbox and the action forms
    "cases.act": EVERYONE,
    "cases.reassign": frozenset({"admin", "manager"}),
    "delegations.manage": EVERYONE,
    # money moves only by these roles' hands (and by the workflow effect ledger.post)
    "ledger.post": frozenset({"admin", "finance"}),
    # management fees: plans, subscriptions and what the fee run charged
    "billing.read": frozenset({"admin", "finance", "manager", "auditor"}),
    # fee plans: create one, save a new version
    "billing.plans": frozenset({"admin"}),
    # the dashboard: receivables, fees, payments, low balances, cases waiting
    "dashboard.read": frozenset({"admin", "finance", "manager", "auditor", "risk"}),
    # a customer's self-service links: make one, see them, revoke one
    "selfservice.manage": frozenset({"admin", "staff", "finance"}),
    # invoices: void one, propose, approve or withdraw an instalment plan
    "billing.manage": frozenset({"admin", "finance", "manager"}),
    # bank reconciliation: read the statements and matches; import, match, explain
    "reconcile.read": frozenset({"admin", "finance", "manager", "auditor"}),
    "reconcile.manage": frozenset({"admin", "finance"}),
    # close a month, ask to reopen one, approve reopening (a second person)
    "periods.close": frozenset({"admin", "finance", "manager"}),
}

#: Permissions whose answer depends on the object too. The package that owns the object
#: registers the rule (`object_rule`) from its permission_rules module, which the app factory
#: imports; asked with an object before that, `can` raises instead of allowing.
OBJECT_PERMISSIONS = frozenset({"cases.read", "cases.edit"})

#: permission -> predicate(user, obj) for checks that depend on the object.
_object_rules: dict[str, Callable[[object, object], bool]] = {}


def object_rule(permission: str):
    """Register the object-level check of `permission` (who reads a case, who edits it): one
    per permission, from the package that knows the object (cases/permission_rules.py)."""
    if permission not in OBJECT_PERMISSIONS:
        raise KeyError(f"{permission!r} is not in OBJECT_PERMISSIONS")

    def register(predicate: Callable[[object, object], bool]):
        if _object_rules.get(permission, predicate) is not predicate:
            raise ValueError(f"{permission!r} already has an object rule")
        _object_rules[permission] = predicate
        return predicate

    return register


def can(user, permission: str, obj=None) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not PERMISSIONS[permission].intersection(user.role_names):
        return False
    if obj is None or permission not in OBJECT_PERMISSIONS:
        return True
    rule = _object_rules.get(permission)
    if rule is None:
        raise LookupError(f"no object rule registered for {permission!r} (the app factory imports them)")
    return rule(user, obj)


def require(user, permission: str, obj=None) -> None:
    """Raise Unauthorized (nobody logged in) or Forbidden unless `user` may do this."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise Unauthorized()
    if not can(user, permission, obj):
        raise Forbidden()
