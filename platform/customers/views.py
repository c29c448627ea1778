"""Customer list and page."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request

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


@bp.route("/search")
@permission_required("cases.create")
def search():
    """JSON for the customer picker of a new case: [{code, name, tier}], at most 20."""
    found = services.search(request.args.get("q", ""), limit=20)
    return jsonify([{"code": c.code, "name": c.name, "tier": c.tier} for c in found])


@bp.route("/<code>")
@permission_required("customers.read")
def show(code: str):
    return render_template("customers/show.html", customer=services.get_by_code(code))
