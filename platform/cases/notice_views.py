"""The notices list (/notices): every notice sent to customers, the cases' notice documents and
the invoices' payment reminders, filtered by customer, kind and days, with its exports."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from formflow import tabular
from formflow.auth.current import acting_user
from formflow.auth.decorators import permission_required
from formflow.cases import notice_list
from formflow.errors import Invalid
from formflow.pagination import next_page_url

bp = Blueprint("notices", __name__, url_prefix="/notices")


def _page(rows, next_url=None, errors=(), status: int = 200):
    page = render_template(
        "notices/index.html",
        rows=rows,
        next_url=next_url,
        args=request.args,
        kinds=notice_list.KINDS,
        field_errors={e["pointer"].lstrip("/"): e["message"] for e in errors},
        exports=tabular.export_urls("notices.export", notice_list.FILTER_ARGS),
    )
    return page, status


@bp.route("/")
@permission_required("cases.read")
def index():
    try:
        filters = notice_list.filters_from(request.args, acting_user())
    except Invalid as invalid:
        return _page([], errors=invalid.errors, status=422)
    size = current_app.config["PAGE_SIZE"]
    rows, cursor = notice_list.page(filters, after=request.args.get("after") or None, size=size)
    return _page(rows, next_page_url("notices.index", "after", cursor))


@bp.route("/export.<format>")
@permission_required("cases.read")
def export(format: str):
    """What the list shows for the same filters and viewer, as CSV or XLSX (streamed)."""
    try:
        return tabular.export_response("notices", format, request.args, acting_user())
    except Invalid as invalid:
        if invalid.errors and invalid.errors[0]["pointer"] == "/format":
            raise
        return _page([], errors=invalid.errors, status=422)
