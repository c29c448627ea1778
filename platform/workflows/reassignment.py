"""Reassignment: a manager hands a case's current step to someone who could act there anyway
(and the choices of the reassign picker)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from formflow import audit
from formflow.auth.models import User
from formflow.auth.permissions import require
from formflow.errors import Conflict, Invalid
from formflow.extensions import db, utcnow
from formflow.records.models import Case
from formflow.workflows.delegations import username_of


def reassign(case: Case, to_user: User | None, by, *, lock_version: int | None = None) -> Case:
    """A manager hands the case's current step to `to_user` (None: back to the state's
    assignee). The new assignee must be someone who could act on this step anyway."""
    from formflow.workflows import engine

    require(by, "cases.reassign", case)
    if lock_version is not None and lock_version != case.lock_version:
        raise Conflict()
    if engine.workflow_of(case.version) is None or case.closed_at is not None:
        raise Invalid(
            [{"pointer": "/to", "message": _("Only an open case in a workflow can be reassigned.")}]
        )
    if to_user is not None:
        if not to_user.active:
            raise Invalid([{"pointer": "/to", "message": _("This user is deactivated.")}])
        if not _could_act_unassigned(case, to_user):
            message = _("%(user)s cannot act at this step.", user=to_user.label)
            raise Invalid([{"pointer": "/to", "message": message}])
    before = {"state": case.state, "assigned_to": username_of(case.assigned_to_id)}
    case.assigned_to_id = to_user.id if to_user is not None else None
    case.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict() from None
    after = {"state": case.state, "assigned_to": to_user.username if to_user else None}
    audit.record("case.reassign", "case", case.id, before=before, after=after, actor=by)
    return case


def _could_act_unassigned(case: Case, user: User) -> bool:
    """Whether `user` may act at the step by roles/assignee alone (ignoring any current
    reassignment, and without the change reaching the database)."""
    from formflow.workflows import engine

    with db.session.no_autoflush:
        current = case.assigned_to_id
        try:
            case.assigned_to_id = None
            return engine.can_act(case, user, None)
        finally:
            case.assigned_to_id = current


def reassign_choices(case: Case) -> list[User]:
    """Active users who could act at the case's current step (for the reassign picker)."""
    users = db.session.execute(sa.select(User).where(User.active.is_(True)).order_by(User.username)).scalars()
    return [user for user in users if _could_act_unassigned(case, user)]
