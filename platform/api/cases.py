"""API endpoints for cases (registered on the api blueprint).

Errors point into the request body: `/process`, `/customer`, `/data/amount`, `/submit`.
"""

from __future__ import annotations

from datetime import datetime

from flask import g, jsonify
from flask_babel import gettext as _

from formflow.api.body import json_object, text_field
from formflow.api.views import bp
from formflow.auth.permissions import require
from formflow.cases import services as cases
from formflow.cases.models import Case
from formflow.errors import Invalid
from formflow.extensions import db


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
    return jsonify(_case_json(found))


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
