"""Auditors browse, filter, verify and export the audit log."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _

from formflow.audit import services
from formflow.auth.decorators import permission_required
from formflow.errors import Invalid
from formflow.pagination import next_page_url

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(
            [{"pointer": f"/{name}", "message": _("Not a date (YYYY-MM-DD): %(v)s", v=raw)}]
        ) from None


def _filters() -> services.AuditFilter:
    since, until = _date_arg("since"), _date_arg("until")
    return services.AuditFilter(
        actor=request.args.get("actor", "").strip() or None,
        action=request.args.get("action", "").strip() or None,
        object_type=request.args.get("object_type", "").strip() or None,
        object_id=request.args.get("object_id", "").strip() or None,
        since=datetime.combine(since, datetime.min.time()) if since else None,
        until=datetime.combine(until + timedelta(days=1), datetime.min.time()) if until else None,
    )


@bp.route("/")
@permission_required("audit.read")
def index():
    filters = _filters()
    before = request.args.get("before", type=int)
    rows, next_cursor = services.page(filters, before_seq=before, size=current_app.config["PAGE_SIZE"])
    return render_template(
        "audit/index.html",
        rows=rows,
        next_url=next_page_url("audit.index", "before", next_cursor),
        args=request.args,
    )


@bp.route("/export.csv")
@permission_required("audit.export")
def export():
    chunks = services.export_csv(_filters())
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=formflow-audit.csv"},
    )


@bp.route("/verify")
@permission_required("audit.read")
def verify():
    return render_template("audit/verify.html", result=services.verify())
