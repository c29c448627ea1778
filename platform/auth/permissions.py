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
}

#: permission -> predicate(user, obj) for checks that depend on the object.
_object_rules: dict[str, Callable[[object, object], bool]] = {}


def object_rule(permission: str):
    """Register an extra object-level check for `permission` (e.g. a case's assignee)."""

    def register(predicate: Callable[[object, object], bool]):
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
    rule = _object_rules.get(permission)
    return rule is None or obj is None or rule(user, obj)


def require(user, permission: str, obj=None) -> None:
    """Raise Unauthorized (nobody logged in) or Forbidden unless `user` may do this."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise Unauthorized()
    if not can(user, permission, obj):
        raise Forbidden()


@object_rule("cases.edit")
def _case_editor(user, case) -> bool:
    """A case's data changes at a form step, by whom the step is for (the workflow says)."""
    from formflow.workflows.engine import may_edit

    return may_edit(case, user)


@object_rule("cases.read")
def _case_reader(user, obj) -> bool:
    """Who reads a case: formflow.cases.visibility; an attachment follows its case, and one
    not yet on a case is its uploader's alone."""
    from formflow.cases.models import Attachment
    from formflow.cases.visibility import can_read

    if isinstance(obj, Attachment):
        return obj.uploaded_by_id == user.id if obj.case_id is None else can_read(user, obj.case)
    return can_read(user, obj)
