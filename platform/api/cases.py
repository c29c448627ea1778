"""API endpoints for cases (registered on the api blueprint).

Errors point into the request body: `/process`, `/customer`, `/data/amount`, `/submit`.
"""

from __future__ import annotations

from datetime import datetime

from flask import g, jsonify
from flask_babel import gettext as _

from formflow.api.body import counter_field, json_object, text_field
from formflow.api.views import bp
from formflow.auth.permissions import require
from formflow.cases import services as cases
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.records.models import Case
from formflow.workflows import engine, explaining, history
from formflow.workflows.casepage import decision
from formflow.workflows.races import lost_race_is_conflict


@bp.route("/cases", methods=["POST"])
def case_create():
    require(g.api_user, "cases.create")
    body = json_object()
    submit = body.get("submit", False)
    if not isinstance(submit, bool):
        raise Invalid([{"pointer": "/submit", "message": _("Must be true or false.")}])
    case = cases.start(
        text_field(body, "process"),
        text_field(body, "customer"),
        body.get("data", {}),
        submit=submit,
        actor=g.api_user,
    )
    db.session.commit()
    return jsonify({"id": case.id, "state": case.state, "version": case.version.number}), 201


@bp.route("/cases/<int:case_id>")
def case(case_id: int):
    found = cases.get(case_id)
    require(g.api_user, "cases.read", found)
    return jsonify(_case_json(found) | _workflow_json(found, g.api_user))


@bp.route("/cases/<int:case_id>/explain")
def case_explain(case_id: int):
    """Why: each rule result and each rule-decided number of the case, with its evaluation
    (the values read and each step's result, in words and as a tree)."""
    found = cases.get(case_id)
    require(g.api_user, "cases.read", found)
    return jsonify({"id": found.id, "state": found.state} | explaining.case_explanation(found, g.api_user))


@bp.route("/cases/<int:case_id>/actions/<action>", methods=["POST"])
def case_action(case_id: int, action: str):
    """Take a workflow action, with the rules of the case page: the engine decides (403
    not allowed, 422 guard / comment / checklist / already approved, 409 stale)."""
    require(g.api_user, "cases.act")
    found = cases.get(case_id)
    require(g.api_user, "cases.read", found)
    body = json_object()
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        raise Invalid([{"pointer": "/data", "message": _("The data must be a JSON object.")}])
    lock_version = counter_field(body, "lock_version")
    comment = text_field(body, "comment")
    with lost_race_is_conflict():
        result = engine.perform(
            found, action, g.api_user, comment=comment, data=data, lock_version=lock_version
        )
        db.session.commit()
    return jsonify(
        {
            "id": found.id,
            "state": result.state,
            "transitioned": result.transitioned,
            "approvals": _approvals_json(result.approvals),
            "lock_version": found.lock_version,
        }
    )


def _stamp(value: datetime | None) -> str | None:
    """Naive UTC from the database as ISO 8601 with its zone."""
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _case_json(case: Case) -> dict:
    submitter = cases.submitter(case)
    return {
        "id": case.id,
        "process": case.process.key,
        "version": case.version.number,
        "customer": case.customer.code,
        "state": case.state,
        "data": case.data,
        "attachments": [
            {
                "token": a.token,
                "field": a.field,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in case.attachments
        ],
        "created_at": _stamp(case.created_at),
        "created_by": case.created_by.username if case.created_by else None,
        "updated_at": _stamp(case.updated_at),
        "submitted_at": _stamp(case.submitted_at),
        "submitted_by": submitter.username if submitter else None,
    }


def _workflow_json(case: Case, user) -> dict:
    """The workflow part of a case as `user` sees it: the step, who it waits for, approvals,
    the actions open to `user`, computed values and rule results, and the history."""
    page = decision(case, user)
    expected = page.expected
    return {
        "lock_version": case.lock_version,
        "state_title": page.state_title,
        "state_round": case.state_round,
        "state_entered_at": _stamp(case.state_entered_at),
        "closed_at": _stamp(case.closed_at),
        "due_at": _stamp(page.due_at),
        "overdue": page.overdue,
        "assigned_to": case.assigned_to.username if case.assigned_to else None,
        "waiting_for": {
            "users": [u.username for u in expected.users],
            "roles": expected.roles,
            "why": expected.why or None,
        },
        "approvals": _approvals_json(page.approvals, page.approvers),
        "actions": [
            {
                "name": option.name,
                "title": option.title,
                "to": option.to,
                "requires_comment": option.requires_comment,
                "is_approval": option.is_approval,
                "needs_input": option.needs_input,
                "blocked": option.blocked,
            }
            for option in page.actions
        ],
        "checklist": [
            {"id": item.id, "label": item.label_text(), "required": item.required, "done": item.done}
            for item in page.checklist
        ],
        "computed": {row.pointer: row.value for row in page.rules if row.kind == "compute" and row.ok},
        "rules": [
            {"rule": row.rule, "kind": row.kind, "pointer": row.pointer, "ok": row.ok, "message": row.message}
            for row in page.rules
        ],
        "history": [history.as_json(entry) for entry in page.timeline],
    }


def _approvals_json(status, approvers: dict | None = None) -> dict | None:
    if status is None:
        return None
    approvers = approvers if approvers is not None else _users_by_id({a.user_id for a in status.given})
    return {
        "required": status.required,
        "remaining": status.remaining,
        "distinct": status.distinct,
        "roles": status.roles,
        "given": [
            {
                "user": approvers[a.user_id].username if a.user_id in approvers else None,
                "at": _stamp(a.at),
                "comment": a.comment,
            }
            for a in status.given
        ],
    }


def _users_by_id(ids: set[int]) -> dict:
    from formflow.auth.models import User

    return {user_id: user for user_id in ids if (user := db.session.get(User, user_id)) is not None}
