"""Auditors browse, filter, verify and export the audit log (blueprint `audit`, /audit): the
pages sit above formflow.auth, whose permissions guard them; the log itself is formflow.audit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from flask_babel import get_timezone, to_utc
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow.audit import services
from formflow.auth.decorators import permission_required
from formflow.errors import Invalid
from formflow.pagination import next_page_url

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _day_arg(name: str, errors: list[dict]) -> datetime | None:
    """The start of the day `name` gives (YYYY-MM-DD in the app's time zone), as stored UTC."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return to_utc(datetime.combine(date.fromisoformat(raw), time.min))
    except ValueError:
        errors.append({"pointer": f"/{name}", "message": _("Not a date (YYYY-MM-DD): %(v)s", v=raw)})
        return None


def _filters() -> services.AuditFilter:
    errors: list[dict] = []
    since, until = _day_arg("since", errors), _day_arg("until", errors)
    if errors:
        raise Invalid(errors)
    return services.AuditFilter(
        actor=request.args.get("actor", "").strip() or None,
        action=request.args.get("action", "").strip() or None,
        object_type=request.args.get("object_type", "").strip() or None,
        object_id=request.args.get("object_id", "").strip() or None,
        since=since,
        until=until + timedelta(days=1) if until else None,
    )


#: What the log's object types are called (one not listed is shown as its key, in code).
OBJECT_TYPES = {
    "case": _l("Case"),
    "process": _l("Process"),
    "process_version": _l("Process version"),
    "user": _l("User"),
    "customer": _l("Customer"),
    "attachment": _l("Attachment"),
    "notification": _l("Notification"),
    "delegation": _l("Delegation"),
    "api_token": _l("API token"),
    "webhook_delivery": _l("Webhook delivery"),
    "global_table": _l("Global table"),
    "global_table_version": _l("Global table version"),
    "login": _l("Login"),
}


def _log_page(rows, next_url=None, errors=None, status=200):
    field_errors = {e["pointer"].lstrip("/"): e["message"] for e in errors or []}
    page = render_template(
        "audit/index.html",
        rows=rows,
        changes={row.id: services.changes(row) for row in rows},
        next_url=next_url,
        args=request.args,
        field_errors=field_errors,
        object_types=OBJECT_TYPES,
        system_actor=services.SYSTEM_ACTOR,
    )
    return page, status


@bp.route("/")
@permission_required("audit.read")
def index():
    try:
        filters = _filters()
    except Invalid as invalid:
        return _log_page([], errors=invalid.errors, status=422)
    before = request.args.get("before", type=int)
    rows, next_cursor = services.page(filters, before_id=before, size=current_app.config["PAGE_SIZE"])
    return _log_page(rows, next_url=next_page_url("audit.index", "before", next_cursor))


@bp.route("/export.csv")
@permission_required("audit.export")
def export():
    try:
        filters = _filters()
    except Invalid as invalid:
        return _log_page([], errors=invalid.errors, status=422)
    chunks = services.export_csv(filters, tz=get_timezone())
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=formflow-audit.csv"},
    )


@bp.route("/verify")
@permission_required("audit.read")
def verify():
    return render_template("audit/verify.html", result=services.verify())
