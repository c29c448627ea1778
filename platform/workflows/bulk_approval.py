"""Bulk approval from the inbox: the cases a user may approve without any input, approved
each in its own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from formflow.errors import DomainError, Invalid, NotFound
from formflow.extensions import db
from formflow.records.models import Case
from formflow.workflows.races import lost_race_is_conflict


@dataclass
class BulkOutcome:
    case_id: int
    ok: bool
    message: str
    state: str | None = None


def quick_approval(case: Case, user) -> str | None:
    """The name of the approve action `user` may take on `case` without any input (no
    comment, checklist or guard), or None."""
    from formflow.workflows import engine

    state = engine.state_spec(case)
    approve = (state.get("approvals") or {}).get("approve", "approve") if isinstance(state, dict) else None
    for option in engine.available_actions(case, user):
        if (
            option.name == approve
            and option.is_approval
            and not option.needs_input
            and not option.requires_comment
            and option.blocked is None
        ):
            return option.name
    return None


def bulk_approve(case_ids: Iterable[int], user, *, now: datetime | None = None) -> list[BulkOutcome]:
    """Approve each case that needs no input, each in its own transaction (committed or
    rolled back here: a batch's edge is the case), and say what happened to each."""
    from formflow.workflows import engine

    outcomes = []
    for case_id in dict.fromkeys(case_ids):
        try:
            case = db.session.get(Case, case_id) if 0 < case_id < 2**63 else None
            if case is None:
                raise NotFound(_("No case number %(id)s.", id=case_id))
            action = quick_approval(case, user)
            if action is None:
                raise Invalid([{"pointer": "", "message": _("Needs your input: open the case to decide.")}])
            with lost_race_is_conflict():
                result = engine.perform(case, action, user, lock_version=case.lock_version, now=now)
                db.session.commit()
        except DomainError as error:
            db.session.rollback()
            outcomes.append(BulkOutcome(case_id, False, error.message))
        else:
            message = _("Approved.") if not result.transitioned else _("Approved; the case moved on.")
            outcomes.append(BulkOutcome(case_id, True, message, result.state))
    return outcomes
