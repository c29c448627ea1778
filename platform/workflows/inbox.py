"""The inbox: which open cases wait for a user (the query and its rows); callers import the
rest of the inbox from here too: delegations (`delegations.py`), reassignment
(`reassignment.py`), who a step waits for (`who_waits.py`), the page's filters
(`inbox_filters.py`), the amounts shown (`form_summaries.py`), bulk approval
(`bulk_approval.py`).

"Waits for" means: the user may take an action of the case's current state (the engine's
`can_act`: roles, the state's assignee, a reassignment, a delegation, not the initiator)
and they are expected to: a form state without an assignee waits for whoever started the
case (not for every staff member), and an approval round they already approved no longer
waits for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import lazyload

from formflow.auth.models import User
from formflow.extensions import db, utcnow
from formflow.forms import display
from formflow.forms.texts import localized
from formflow.processes.models import ProcessVersion
from formflow.records.models import Case
from formflow.rules.operators import business_today
from formflow.workflows.bulk_approval import BulkOutcome, bulk_approve, quick_approval
from formflow.workflows.delegations import (
    delegate,
    delegation_snapshot,
    delegations_of,
    delegators_of,
    get_delegation,
    revoke,
)
from formflow.workflows.form_summaries import FormSummary, form_schemas, form_summary
from formflow.workflows.inbox_filters import SORTS, InboxFilter, ProcessStates, filter_choices, shown
from formflow.workflows.models import CaseApproval, Timer
from formflow.workflows.reassignment import reassign, reassign_choices
from formflow.workflows.who_waits import (
    acting_for,
    is_expected,
    reason_for,
    state_may_involve,
    waits_on_nobody,
)

#: the inbox's door: what callers import from here (the parts live in the modules above)
__all__ = [
    "SORTS",
    "BulkOutcome",
    "FormSummary",
    "InboxFilter",
    "InboxRow",
    "ProcessStates",
    "bulk_approve",
    "count_for",
    "delegate",
    "delegation_snapshot",
    "delegations_of",
    "delegators_of",
    "filter_choices",
    "get_delegation",
    "involved_steps",
    "quick_approval",
    "reassign",
    "reassign_choices",
    "revoke",
    "shown",
    "waiting_for",
    "waits_on_nobody",
]


@dataclass
class InboxRow:
    case: Case
    state_title: str
    #: why it waits for the user: "reassigned", "assignee", "role", "initiator", "delegated"
    reason: str
    #: usernames the user acts for by delegation (empty when acting in their own right)
    on_behalf_of: list[str] = field(default_factory=list)
    due_at: datetime | None = None
    overdue: bool = False
    #: the value of the form's first top-level money field (None: no such field or no value)
    amount: Decimal | None = None
    #: that field's title, in the user's language
    amount_title: str = ""

    @property
    def waiting_since(self) -> datetime:
        return self.case.state_entered_at or self.case.created_at

    @cached_property
    def key_fields(self) -> list[tuple[str, str]]:
        """(title, value as the case page shows it) of the top-level fields the form marks
        with `"ui:options": {"summary": true}` (read when the page shows the row)."""
        marked = form_summary(self.case.version).marked
        if not marked:
            return []
        schema, ui_schema = form_schemas(self.case.version)
        rows = display(schema, ui_schema, self.case.data or {})
        return [(row.title, row.value) for row in rows if not row.group and row.pointer in marked]


def waiting_for(user, *, today: date | None = None, now: datetime | None = None) -> list[InboxRow]:
    """Open cases waiting for `user`: overdue first, then the longest waiting."""
    from formflow.workflows import engine

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    now, today = now or utcnow(), today or business_today()
    delegators = [u for u in (db.session.get(User, i) for i in delegators_of(user, today)) if u is not None]
    candidates = _candidates(user, delegators)
    approved = _approved_by(user, candidates)
    due = _due_times(candidates)
    summaries: dict[int, FormSummary] = {}
    rows = []
    for case in candidates:
        state = engine.state_spec(case)
        if (case.id, case.state, case.state_round) in approved or waits_on_nobody(case, state):
            continue
        if not is_expected(case, state, user, delegators) or not engine.can_act(case, user, None):
            continue
        due_at = due.get((case.id, case.state, case.state_round))
        if case.version_id not in summaries:
            summaries[case.version_id] = form_summary(case.version)
        summary = summaries[case.version_id]
        rows.append(
            InboxRow(
                case=case,
                state_title=localized(state.get("title")) or case.state,
                reason=reason_for(case, state, user, delegators),
                on_behalf_of=acting_for(case, state, user, delegators),
                due_at=due_at,
                overdue=due_at is not None and due_at <= now,
                amount=summary.amount_of(case.data),
                amount_title=summary.money_title,
            )
        )
    rows.sort(key=lambda r: (not r.overdue, r.waiting_since, r.case.id))
    return rows


def count_for(user) -> int:
    """How many cases wait for `user` (counted once per request: the navigation asks)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    # per request only: a test or a CLI command in one long app context must see changes
    cache = g.setdefault("_inbox_counts", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = len(waiting_for(user))
    return cache[user.id]


def involved_steps(user: User, delegators: list[User] | None = None) -> dict[int, list[str]]:
    """{version id: the states of open cases there} where `user` (or a delegator of theirs)
    might act by role: a coarse filter in SQL terms, decided per case by `can_act`."""
    from formflow.workflows import engine

    if delegators is None:
        delegators = [u for u in (db.session.get(User, i) for i in delegators_of(user)) if u is not None]
    roles = {role for p in [user, *delegators] for role in p.role_names}
    pairs = db.session.execute(
        sa.select(Case.version_id, Case.state).where(Case.closed_at.is_(None)).distinct()
    ).all()
    by_version: dict[int, list[str]] = {}
    versions = {}
    for version_id, state_name in pairs:
        if version_id not in versions:
            versions[version_id] = db.session.get(ProcessVersion, version_id)
        workflow = engine.workflow_of(versions[version_id]) or {}
        state = (workflow.get("states") or {}).get(state_name) or {}
        if state_may_involve(state, roles):
            by_version.setdefault(version_id, []).append(state_name)
    return by_version


def _candidates(user: User, delegators: list[User]) -> list[Case]:
    """Open cases whose state one of `user`/`delegators` could act in by role, or that
    were reassigned to one of them: a coarse filter in SQL, decided per case after."""
    ids = [p.id for p in [user, *delegators]]
    conditions = [Case.assigned_to_id.in_(ids)]
    conditions += [
        sa.and_(Case.version_id == version_id, Case.state.in_(states), Case.assigned_to_id.is_(None))
        for version_id, states in involved_steps(user, delegators).items()
    ]
    # the versions are loaded above (one each); don't join their specs into every row
    query = (
        sa.select(Case)
        .where(Case.closed_at.is_(None), sa.or_(*conditions))
        .options(
            lazyload(Case.version), lazyload(Case.process), lazyload(Case.customer), lazyload(Case.created_by)
        )
        .order_by(Case.id)
    )
    return list(db.session.execute(query).scalars())


def _approved_by(user: User, cases: list[Case]) -> set[tuple[int, str, int]]:
    if not cases:
        return set()
    rows = db.session.execute(
        sa.select(CaseApproval.case_id, CaseApproval.state, CaseApproval.round).where(
            CaseApproval.user_id == user.id,
            CaseApproval.decision == "approve",
            CaseApproval.case_id.in_([c.id for c in cases]),
        )
    ).all()
    return {tuple(row) for row in rows}


def _due_times(cases: list[Case]) -> dict[tuple[int, str, int], datetime]:
    """The due time of each case's current step (the earliest "due" timer of the round)."""
    if not cases:
        return {}
    rows = db.session.execute(
        sa.select(Timer.case_id, Timer.state, Timer.round, sa.func.min(Timer.fire_at))
        .where(Timer.kind == "due", Timer.case_id.in_([c.id for c in cases]))
        .group_by(Timer.case_id, Timer.state, Timer.round)
    ).all()
    return {(case_id, state, round_): fire_at for case_id, state, round_, fire_at in rows}
