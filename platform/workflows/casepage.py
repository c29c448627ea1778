"""What the case page shows about the workflow: the step and who is expected to act,
approvals given and still needed, the actions open to the viewer, computed values and
rule results, and the history. One call, so the page and the API agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from formflow.auth.models import User
from formflow.auth.permissions import ROLES, can
from formflow.extensions import db, utcnow
from formflow.forms.display import field_titles
from formflow.forms.pointers import resolve
from formflow.forms.texts import localized
from formflow.processes.form_rules import KIND_LABELS, evaluate_rules, field_schema, truthy, version_tables
from formflow.rules.errors import RuleError
from formflow.workflows import history
from formflow.workflows.models import Timer


@dataclass
class Expected:
    """Who the step waits for: a user (reassigned, named in the data, the initiator) or
    holders of roles."""

    kind: str  # "user" | "roles" | "nobody"
    users: list[User] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    why: str = ""  # "reassigned" | "field" | "initiator" | "assignee" | "actions" | "timer" | "unasked"


@dataclass
class RuleRow:
    rule: str
    kind: str  # "compute" | "validate" | "visible" | "required" | "enable"
    field: str  # the field's title (or pointer)
    pointer: str
    value: Any = None
    ok: bool = True
    message: str = ""
    #: the rule's title in the user's language ("" when the spec gives none: show its id)
    title: str = ""

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


@dataclass
class Decision:
    workflow: bool
    state: str
    state_title: str
    state_kind: str
    closed: bool
    entered_at: datetime | None
    due_at: datetime | None
    overdue: bool
    expected: Expected
    approvals: Any  # engine.ApprovalStatus | None
    approvers: dict[int, User]
    actions: list  # engine.ActionOption
    can_reassign: bool
    reassign_choices: list[User]
    rules: list[RuleRow]
    timeline: list[history.TimelineEntry]
    checklist: list = field(default_factory=list)  # checklists.ChecklistItemView
    can_tick: bool = False
    case: Any = field(default=None, repr=False)
    viewer: Any = field(default=None, repr=False)
    _why: dict | None = field(default=None, repr=False)

    def why(self) -> dict:
        """Why the approvals required and each rule row are what they are (the case page's
        "why?" disclosures): formflow.workflows.explaining, computed when first asked."""
        if self._why is None:
            from formflow.workflows import explaining

            self._why = explaining.for_page(self.case, self.viewer) if self.case is not None else {}
        return self._why


def decision(case, user) -> Decision:
    """Everything the case page needs about the workflow, for `user`."""
    from formflow.workflows import checklists, engine, inbox

    workflow = engine.workflow_of(case.version)
    state = engine.state_spec(case)
    status = engine.approval_status(case) if workflow else None
    approver_ids = {a.user_id for a in status.given} if status else set()
    due_at = _due_at(case)
    reassignable = workflow is not None and case.closed_at is None and can(user, "cases.reassign", case)
    return Decision(
        workflow=workflow is not None,
        state=case.state,
        state_title=localized(state.get("title")) or case.state,
        state_kind=state.get("kind", "form") if workflow else "",
        closed=case.closed_at is not None,
        entered_at=case.state_entered_at,
        due_at=due_at,
        overdue=due_at is not None and due_at <= utcnow() and case.closed_at is None,
        expected=expected(case) if workflow else Expected("nobody"),
        approvals=status,
        approvers=_users(approver_ids),
        actions=engine.available_actions(case, user) if workflow else [],
        can_reassign=reassignable,
        reassign_choices=inbox.reassign_choices(case) if reassignable else [],
        rules=rule_rows(case),
        timeline=history.timeline(case),
        checklist=checklists.items(case) if workflow else [],
        can_tick=checklists.can_tick(case, user) if workflow else False,
        case=case,
        viewer=user,
    )


def expected(case) -> Expected:
    """Who the case's current step waits for (the inbox's rule: `inbox.waits_on_nobody`)."""
    from formflow.workflows import engine, inbox

    state = engine.state_spec(case)
    if case.closed_at is not None or not state.get("actions"):
        return Expected("nobody")
    if inbox.waits_on_nobody(case, state):
        sla = state.get("sla") if isinstance(state.get("sla"), dict) else {}
        timed = isinstance(sla.get("on_expire"), dict) and sla["on_expire"].get("do") == "action"
        return Expected("nobody", why="timer" if timed else "unasked")
    if case.assigned_to_id is not None:
        return Expected("user", users=list(_users({case.assigned_to_id}).values()), why="reassigned")
    assignee = state.get("assignee") if isinstance(state.get("assignee"), dict) else {}
    if assignee.get("field"):
        username = resolve(case.data or {}, assignee["field"])
        named = db.session.execute(sa.select(User).where(User.username == str(username))).scalar_one_or_none()
        return Expected("user", users=[named] if named else [], why="field")
    if assignee.get("role"):
        return Expected("roles", roles=[assignee["role"]], why="assignee")
    if state.get("kind", "form") == "form" and case.created_by is not None:
        return Expected("user", users=[case.created_by], why="initiator")
    roles = sorted(
        {role for a in state["actions"].values() if isinstance(a, dict) for role in a.get("roles") or []},
        key=lambda role: list(ROLES).index(role) if role in ROLES else len(ROLES),
    )
    return Expected("roles", roles=roles, why="actions")


def rule_rows(case) -> list[RuleRow]:
    """Computed values and validation results of the case's rules over its current data."""
    from formflow.workflows import engine

    spec = case.version.spec or {}
    if not spec.get("rules"):
        return []
    schema = (spec.get("form") or {}).get("schema") or {}
    try:
        outcome = evaluate_rules(
            spec,
            case.data or {},
            engine.rule_context_for(case),
            tables=version_tables(case.version),
            previous=case.data or {},
        )
    except RuleError as error:
        return [RuleRow("", "validate", "", "", ok=False, message=error.errors[0]["message"])]
    failed = {(e.get("rule"), e["pointer"]): e["message"] for e in outcome.errors}
    shown = field_titles(schema, (spec.get("form") or {}).get("uiSchema") or {}, case.data or {})
    titles = {
        rule.get("id"): localized(rule.get("title"))
        for rule in spec.get("rules") or []
        if isinstance(rule, dict) and rule.get("title")
    }
    rows = []
    for result in outcome.results:
        pointer, kind = result["pointer"], result["kind"]
        title = shown.get(pointer) or localized(field_schema(schema, pointer).get("title")) or pointer
        message = failed.pop((result["id"], pointer), "")
        if kind == "validate":
            ok, value = not message and truthy(result["value"]), result["value"]
        elif kind == "compute":  # the value as stored (converted to the field's type: money to 0.01)
            ok, value = not message, outcome.computed.get(pointer, result["value"])
        else:  # visible, required, enable: whether the condition holds (a required field left empty fails)
            ok, value = not message, truthy(result["value"])
        rows.append(
            RuleRow(result["id"], kind, title, pointer, value, ok, message, titles.get(result["id"], ""))
        )
    for (rule_id, pointer), message in failed.items():
        title = shown.get(pointer) or localized(field_schema(schema, pointer).get("title")) or pointer
        rows.append(
            RuleRow(rule_id or "", "validate", title, pointer, None, False, message, titles.get(rule_id, ""))
        )
    return rows


def _due_at(case) -> datetime | None:
    return db.session.execute(
        sa.select(sa.func.min(Timer.fire_at)).where(
            Timer.case_id == case.id,
            Timer.state == case.state,
            Timer.round == case.state_round,
            Timer.kind == "due",
        )
    ).scalar_one_or_none()


def _users(ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.execute(sa.select(User).where(User.id.in_(ids))).scalars()}
