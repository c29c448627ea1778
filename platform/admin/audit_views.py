"""Auditors browse, filter, verify and export the audit log (blueprint `audit`, /audit): the
pages sit above formflow.auth, whose permissions guard them; the log itself is formflow.audit."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow import tabular
from formflow.audit import exporting, services
from formflow.auth.decorators import permission_required
from formflow.errors import Invalid
from formflow.pagination import next_page_url

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _filters() -> services.AuditFilter:
    return exporting.filters_from(request.args)


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
        exports=tabular.export_urls("audit.export", exporting.FILTER_ARGS),
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


@bp.route("/export.<format>")
@permission_required("audit.export")
def export(format: str):
    """The log for the page's filters, oldest first, as CSV or XLSX (streamed); bad filters
    give the page with each problem next to its field."""
    try:
        filters = _filters()
    except Invalid as invalid:
        return _log_page([], errors=invalid.errors, status=422)
    entry = tabular.get("audit")
    if format not in tabular.FORMATS:
        raise Invalid([{"pointer": "/format", "message": _("Export as csv or xlsx.")}])
    return tabular.download(entry.table(filters), format, entry.filename(format))


@bp.route("/verify")
@permission_required("audit.read")
def verify():
    return render_template("audit/verify.html", result=services.verify())
