"""The inbox: which open cases wait for a user, delegations, reassignment, bulk approval.

"Waits for" means: the user may take an action of the case's current state (the engine's
`can_act`: roles, the state's assignee, a reassignment, a delegation, not the initiator)
and they are expected to: a form state without an assignee waits for whoever started the
case (not for every staff member), and an approval round they already approved no longer
waits for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property

import sqlalchemy as sa
from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.exc import StaleDataError

from formflow import audit
from formflow.auth.models import User
from formflow.auth.permissions import require
from formflow.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.forms import columns, display
from formflow.forms.pointers import resolve
from formflow.forms.texts import localized
from formflow.processes.models import ProcessVersion
from formflow.records.models import Case
from formflow.rules.operators import business_today
from formflow.workflows.models import CaseApproval, Delegation, Timer
from formflow.workflows.races import lost_race_is_conflict

# --- delegations ---------------------------------------------------------------------------


def delegators_of(user, today: date | None = None) -> list[int]:
    """The ids of the users whose approvals `user` may give on `today` (both ends of a
    delegation included; revoked delegations and deactivated delegators do not count;
    delegations do not chain)."""
    if user is None or getattr(user, "id", None) is None:
        return []
    today = today or business_today()
    rows = db.session.execute(
        sa.select(Delegation.from_user_id)
        .join(User, User.id == Delegation.from_user_id)
        .where(
            Delegation.to_user_id == user.id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_on <= today,
            Delegation.ends_on >= today,
            User.active.is_(True),
        )
        .distinct()
        .order_by(Delegation.from_user_id)
    ).scalars()
    return list(rows)


def delegation_snapshot(delegation: Delegation) -> dict:
    return {
        "from": _username(delegation.from_user_id),
        "to": _username(delegation.to_user_id),
        "starts_on": delegation.starts_on.isoformat(),
        "ends_on": delegation.ends_on.isoformat(),
        "revoked_at": delegation.revoked_at,
    }


def delegate(from_user: User, to_user: User | None, starts_on, ends_on, actor) -> Delegation:
    """`from_user` hands their approvals to `to_user` from `starts_on` to `ends_on` (both
    included). Users delegate their own approvals; an administrator may for anyone."""
    require(actor, "delegations.manage")
    if actor.id != from_user.id and "admin" not in actor.role_names:
        raise Forbidden()
    errors = []
    if to_user is None:
        errors.append({"pointer": "/to", "message": _("Choose a user to delegate to.")})
    elif to_user.id == from_user.id:
        errors.append({"pointer": "/to", "message": _("You cannot delegate to yourself.")})
    elif not to_user.active:
        errors.append({"pointer": "/to", "message": _("This user is deactivated.")})
    elif not set(to_user.role_names) & set(from_user.role_names):
        # a delegate acts only through roles both hold: they stand in for a person, not a role
        message = _(
            "%(user)s holds none of the delegator's roles and could not act for them.", user=to_user.label
        )
        errors.append({"pointer": "/to", "message": message})
    if not isinstance(starts_on, date):
        errors.append({"pointer": "/starts_on", "message": _("Enter the first day (YYYY-MM-DD).")})
    if not isinstance(ends_on, date):
        errors.append({"pointer": "/ends_on", "message": _("Enter the last day (YYYY-MM-DD).")})
    if isinstance(starts_on, date) and isinstance(ends_on, date):
        if ends_on < starts_on:
            message = _("The last day is before the first day.")
            errors.append({"pointer": "/ends_on", "message": message})
        elif ends_on < business_today():
            errors.append({"pointer": "/ends_on", "message": _("The last day has already passed.")})
    if not errors and _overlapping(from_user.id, to_user.id, starts_on, ends_on):
        message = _("You already delegate to this user on some of these days.")
        errors.append({"pointer": "/starts_on", "message": message})
    if errors:
        raise Invalid(errors)
    delegation = Delegation(
        from_user_id=from_user.id, to_user_id=to_user.id, starts_on=starts_on, ends_on=ends_on
    )
    db.session.add(delegation)
    db.session.flush()
    audit.record(
        "delegation.create", "delegation", delegation.id, after=delegation_snapshot(delegation), actor=actor
    )
    return delegation


def _overlapping(from_id: int, to_id: int, starts_on: date, ends_on: date) -> bool:
    found = db.session.execute(
        sa.select(Delegation.id).where(
            Delegation.from_user_id == from_id,
            Delegation.to_user_id == to_id,
            Delegation.revoked_at.is_(None),
            Delegation.starts_on <= ends_on,
            Delegation.ends_on >= starts_on,
        )
    ).first()
    return found is not None


def get_delegation(delegation_id: int) -> Delegation:
    found = db.session.get(Delegation, delegation_id) if 0 < delegation_id < 2**63 else None
    if found is None:
        raise NotFound(_("No delegation number %(id)s.", id=delegation_id))
    return found


def revoke(delegation: Delegation, actor) -> Delegation:
    """End a delegation now (its delegator, its delegate or an administrator may)."""
    require(actor, "delegations.manage")
    if actor.id not in (delegation.from_user_id, delegation.to_user_id) and "admin" not in actor.role_names:
        raise Forbidden()
    if delegation.revoked_at is not None:
        return delegation
    before = delegation_snapshot(delegation)
    delegation.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        "delegation.revoke",
        "delegation",
        delegation.id,
        before=before,
        after=delegation_snapshot(delegation),
        actor=actor,
    )
    return delegation


def delegations_of(user) -> tuple[list[Delegation], list[Delegation]]:
    """(given by `user`, received by `user`): current and future ones first, newest first."""

    def query(column):
        return list(
            db.session.execute(
                sa.select(Delegation)
                .where(column == user.id)
                .order_by(Delegation.revoked_at.is_not(None), Delegation.ends_on.desc(), Delegation.id.desc())
                .limit(100)
            ).scalars()
        )

    return query(Delegation.from_user_id), query(Delegation.to_user_id)


def _username(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user else None


# --- reassignment --------------------------------------------------------------------------


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
    before = {"state": case.state, "assigned_to": _username(case.assigned_to_id)}
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


# --- the inbox -----------------------------------------------------------------------------


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
        marked = _form_summary(self.case.version).marked
        if not marked:
            return []
        schema, ui_schema = _form(self.case.version)
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
        if not _expected(case, state, user, delegators) or not engine.can_act(case, user, None):
            continue
        due_at = due.get((case.id, case.state, case.state_round))
        if case.version_id not in summaries:
            summaries[case.version_id] = _form_summary(case.version)
        summary = summaries[case.version_id]
        rows.append(
            InboxRow(
                case=case,
                state_title=localized(state.get("title")) or case.state,
                reason=_reason(case, state, user, delegators),
                on_behalf_of=_acting_for(case, state, user, delegators),
                due_at=due_at,
                overdue=due_at is not None and due_at <= now,
                amount=summary.amount_of(case.data),
                amount_title=summary.money_title,
            )
        )
    rows.sort(key=lambda r: (not r.overdue, r.waiting_since, r.case.id))
    return rows


def waits_on_nobody(case: Case, state: dict) -> bool:
    """Whether the step waits on no one, though people may act there (e.g. a dispute window
    a timer closes): the state says `"inbox": false`; or, by default, it is an automatic
    step with no assignee (and not reassigned) whose SLA ends it by an action."""
    if isinstance(state.get("inbox"), bool):
        return not state["inbox"]
    if state.get("kind") != "automatic" or state.get("assignee") or case.assigned_to_id is not None:
        return False
    sla = state.get("sla") if isinstance(state.get("sla"), dict) else {}
    on_expire = sla.get("on_expire") if isinstance(sla.get("on_expire"), dict) else {}
    return on_expire.get("do") == "action"


# --- presenting the inbox --------------------------------------------------------------------


def _form(version: ProcessVersion) -> tuple[dict, dict]:
    form = (version.spec or {}).get("form") or {}
    return form.get("schema") or {}, form.get("uiSchema") or {}


@dataclass(frozen=True)
class FormSummary:
    """What the inbox shows of a version's form: its first top-level money field (the
    amount) and the fields it marks as deciding (`"ui:options": {"summary": true}`)."""

    money: str | None = None  # the money field's top-level name
    money_title: str = ""
    marked: frozenset[str] = frozenset()  # pointers

    def amount_of(self, data) -> Decimal | None:
        value = data.get(self.money) if self.money and isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return None
        return Decimal(value)


def _form_summary(version: ProcessVersion) -> FormSummary:
    fields = columns(*_form(version))
    money = next((column for column in fields if column.money), None)
    return FormSummary(
        money=money.name if money else None,
        money_title=money.title if money else "",
        marked=frozenset(column.pointer for column in fields if column.summary),
    )


#: the inbox's orders (`?sort=`; a leading "-" reverses): the default is overdue first,
#: then the longest waiting
SORTS = ("since", "due", "amount", "customer")


@dataclass
class InboxFilter:
    """What the inbox page shows of the cases waiting for a user (`?process=&state=` …)."""

    process: str | None = None
    #: a state name, or "process:state" for one process's state
    state: str | None = None
    #: part of the customer's code or name, any case
    customer: str | None = None
    overdue_only: bool = False

    def keeps(self, row: InboxRow) -> bool:
        case = row.case
        if self.process and case.process.key != self.process:
            return False
        if self.state:
            process, _sep, state = self.state.rpartition(":")
            if case.state != state or (process and case.process.key != process):
                return False
        if self.customer:
            text = self.customer.strip().casefold()
            if text not in case.customer.code.casefold() and text not in case.customer.name.casefold():
                return False
        return not (self.overdue_only and not row.overdue)


def shown(rows: list[InboxRow], filters: InboxFilter, sort: str | None) -> list[InboxRow]:
    """The rows the filters keep, in the order asked for (unknown orders: the default).
    Rows without the value sorted on (no due time, no amount) come last either way."""
    kept = [row for row in rows if filters.keeps(row)]
    name = (sort or "").removeprefix("-")
    if name not in SORTS:
        return kept
    value = {
        "since": lambda row: row.waiting_since,
        "due": lambda row: row.due_at,
        "amount": lambda row: row.amount,
        "customer": lambda row: (row.case.customer.code.casefold(), row.case.customer.name),
    }[name]
    present = [row for row in kept if value(row) is not None]
    absent = [row for row in kept if value(row) is None]
    present.sort(key=lambda row: (value(row), row.case.id), reverse=sort.startswith("-"))
    return present + absent


@dataclass
class ProcessStates:
    """A process and its states (name, title) among the rows, for the filter's choices."""

    key: str
    name: str
    states: list[tuple[str, str]] = field(default_factory=list)


def filter_choices(rows: list[InboxRow], locale: str) -> list[ProcessStates]:
    """The processes and states of the cases waiting (so every choice finds something)."""
    found: dict[str, ProcessStates] = {}
    for row in rows:
        process = row.case.process
        entry = found.setdefault(process.key, ProcessStates(process.key, process.name(locale)))
        if all(name != row.case.state for name, _title in entry.states):
            entry.states.append((row.case.state, row.state_title))
    return sorted(found.values(), key=lambda entry: entry.name)


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
        if _state_may_involve(state, roles):
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


def _state_may_involve(state: dict, roles: set[str]) -> bool:
    """Whether holders of `roles` might act in `state` (an action's roles, else the
    assignee's role; an action open to any role or a field assignee: maybe)."""
    assignee = state.get("assignee") if isinstance(state.get("assignee"), dict) else {}
    for action in (state.get("actions") or {}).values():
        if not isinstance(action, dict):
            continue
        allowed = set(action.get("roles") or ([assignee["role"]] if assignee.get("role") else []))
        if not allowed or allowed & roles:
            return True
    return False


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


def _is_form_step(state: dict) -> bool:
    return state.get("kind", "form") == "form" and not state.get("assignee")


def _expected(case: Case, state: dict, user: User, delegators: list[User]) -> bool:
    """Whether the case waits for `user` (rather than merely allowing them to act)."""
    if case.assigned_to_id is not None:
        return case.assigned_to_id in {user.id, *(d.id for d in delegators)}
    if _is_form_step(state):
        return case.created_by_id == user.id  # a draft is its author's (delegations are approvals)
    return True


def _reason(case: Case, state: dict, user: User, delegators: list[User]) -> str:
    if case.assigned_to_id is not None:
        return "reassigned" if case.assigned_to_id == user.id else "delegated"
    if _is_form_step(state):
        return "initiator"
    if not _by_own_roles(case, state, user):
        return "delegated"
    assignee = state.get("assignee") if isinstance(state.get("assignee"), dict) else {}
    if assignee.get("field") or (assignee.get("role") and assignee["role"] in user.role_names):
        return "assignee"
    return "role"


def _by_own_roles(case: Case, state: dict, user: User) -> bool:
    """Whether `user` holds the step in their own right (for the label only: whether they
    may act at all is the engine's `can_act`)."""
    assignee = state.get("assignee") if isinstance(state.get("assignee"), dict) else {}
    if assignee.get("field") and resolve(case.data or {}, assignee["field"]) != user.username:
        return False
    return _state_may_involve(state, set(user.role_names))


def _acting_for(case: Case, state: dict, user: User, delegators: list[User]) -> list[str]:
    """The delegators on whose behalf `user` is expected at this case."""
    from formflow.workflows import engine

    names = []
    for other in delegators:
        if case.assigned_to_id is not None:
            acts = case.assigned_to_id == other.id
        elif _is_form_step(state):
            acts = False
        else:
            acts = engine.can_act(case, other, None)
        if acts:
            names.append(other.username)
    return names


# --- bulk approval -------------------------------------------------------------------------


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
