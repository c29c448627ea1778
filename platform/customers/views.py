"""Customer list and page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from formflow.auth.decorators import permission_required
from formflow.customers import services
from formflow.pagination import next_page_url

bp = Blueprint("customers", __name__, url_prefix="/customers")


@bp.route("/")
@permission_required("customers.read")
def index():
    rows, next_cursor = services.page(
        text=request.args.get("q"),
        tier=request.args.get("tier") or None,
        after_code=request.args.get("after") or None,
        size=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "customers/index.html",
        rows=rows,
        next_url=next_page_url("customers.index", "after", next_cursor),
        args=request.args,
    )


@bp.route("/<code>")
@permission_required("customers.read")
def show(code: str):
    return render_template("customers/show.html", customer=services.get_by_code(code))
