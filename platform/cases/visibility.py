"""Who may read which case — one rule for the case page, the list, the inbox, the API,
exports and attachments (as 简道云's data permissions do):

- a draft (never submitted) is its author's and administrators'; a case the system opened
  (the offboarding screening: no author) is read like a submitted one, so the role it waits
  for can open it;
- a submitted case is also readable by the roles its process names (`access.read` in the
  spec; by default auditors and every role a workflow step is assigned to), by whom its
  current step was reassigned to, by whoever may act on it now (roles, delegation), and
  by those who may reassign steps (managers: they must see what they hand on).
"""

from __future__ import annotations

import sqlalchemy as sa

from formflow.extensions import db
from formflow.processes.models import ProcessVersion
from formflow.records.models import Case

#: Roles that read every submitted case of any process, whatever its spec says.
ALWAYS = frozenset({"admin"})
#: Roles that read every submitted case of a process whose spec names no readers.
DEFAULT_READERS = frozenset({"auditor"})


def readers(version: ProcessVersion) -> frozenset[str]:
    """The roles that read every submitted case of this version."""
    spec = version.spec or {}
    access = spec.get("access") if isinstance(spec.get("access"), dict) else {}
    if isinstance(access.get("read"), list):
        return ALWAYS | frozenset(str(role) for role in access["read"])
    states = ((spec.get("workflow") or {}).get("states") or {}).values()
    assigned = {
        state["assignee"]["role"]
        for state in states
        if isinstance(state, dict)
        and isinstance(state.get("assignee"), dict)
        and state["assignee"].get("role")
    }
    return ALWAYS | DEFAULT_READERS | frozenset(assigned)


def _is_admin(user) -> bool:
    return "admin" in user.role_names


def _reads_every_submitted(user) -> bool:
    from formflow.auth.permissions import can

    return can(user, "cases.reassign")


def can_read(user, case: Case) -> bool:
    from formflow.workflows import engine

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if _is_admin(user) or case.created_by_id == user.id:
        return True
    if case.submitted_at is None and case.created_by_id is not None:
        return False
    if _reads_every_submitted(user):
        return True
    if readers(case.version) & set(user.role_names) or case.assigned_to_id == user.id:
        return True
    return engine.can_act(case, user, None)


def visible(user) -> sa.ColumnElement[bool]:
    """The same rule as a WHERE clause on Case (the step's actors by the roles that may act
    there, the coarse filter `can_act` refines; delegations count their delegators' roles)."""
    if _is_admin(user):
        return sa.true()
    from formflow.workflows.inbox import involved_steps

    if _reads_every_submitted(user):
        return sa.or_(Case.created_by_id == user.id, _past_its_author())
    roles = set(user.role_names)
    readable = [
        version_id
        for version_id, spec in db.session.execute(sa.select(ProcessVersion.id, ProcessVersion.spec)).all()
        if readers(ProcessVersion(spec=spec)) & roles
    ]
    steps = [
        sa.and_(Case.version_id == version_id, Case.state.in_(states))
        for version_id, states in involved_steps(user).items()
    ]
    submitted = sa.or_(Case.version_id.in_(readable), Case.assigned_to_id == user.id, *steps)
    return sa.or_(Case.created_by_id == user.id, sa.and_(_past_its_author(), submitted))


def _past_its_author() -> sa.ColumnElement[bool]:
    """Submitted, or opened by the system (no author whose draft it would be)."""
    return sa.or_(Case.submitted_at.is_not(None), Case.created_by_id.is_(None))
