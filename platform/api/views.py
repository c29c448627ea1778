"""JSON endpoints under /api/v1; errors are {"errors": [{"pointer", "message"}]}."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _

from formflow.api.auth import authenticate_bearer
from formflow.api.body import json_object, text_field
from formflow.api.openapi import document
from formflow.auth.permissions import require
from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import balances

bp = Blueprint("api", __name__, url_prefix="/api/v1")
#: no bearer token: the OpenAPI document, and the payment webhook (its signature authenticates)
PUBLIC_ENDPOINTS = {"api.openapi", "api.payment_webhook"}


@bp.before_request
def authenticate() -> None:
    if request.endpoint not in PUBLIC_ENDPOINTS:
        authenticate_bearer()


@bp.after_request
def commit_token_use(response):
    if response.status_code < 400:
        db.session.commit()  # last_used_at of the token
    return response


@bp.route("/openapi.json")
def openapi():
    return jsonify(document())


@bp.route("/me")
def me():
    require(g.api_user, "api.use")
    user = g.api_user
    return jsonify({"username": user.username, "display_name": user.display_name, "roles": user.role_names})


@bp.route("/customers/<code>")
def customer(code: str):
    require(g.api_user, "customers.read")
    found = customers.get_by_code(code)
    return jsonify(customers.full_snapshot(found) | {"balances": balances.balances(found)})


@bp.route("/customers")
def customers_list():
    require(g.api_user, "customers.read")
    limit = min(max(request.args.get("limit", 50, type=int), 1), 200)
    rows, after = customers.page(
        text=request.args.get("q"), tier=request.args.get("tier") or None,
        status=request.args.get("status") or None, after_code=request.args.get("after") or None, size=limit,
    )  # fmt: skip
    following = url_for("api.customers_list", **{**request.args.to_dict(), "after": after}) if after else None
    return jsonify({"customers": [row.snapshot() for row in rows], "next": following})


@bp.route("/customers/<code>", methods=["PATCH"])
def customer_update(code: str):
    require(g.api_user, "customers.manage")
    found = customers.update(customers.get_by_code(code), json_object(), actor=g.api_user)
    db.session.commit()
    return jsonify(customers.full_snapshot(found) | {"balances": balances.balances(found)})


@bp.route("/customers", methods=["POST"])
def customer_create():
    require(g.api_user, "customers.manage")
    body = json_object()
    unknown = sorted(set(body) - {"code", "name", "tier", "status", "contacts", "reason"})
    if unknown:
        raise Invalid([{"pointer": f"/{key}", "message": _("Unknown field.")} for key in unknown])
    created = customers.create(
        text_field(body, "code"),
        text_field(body, "name"),
        text_field(body, "tier"),
        status=text_field(body, "status") or "active",
        contacts=body.get("contacts") or [],
        reason=text_field(body, "reason"),
        actor=g.api_user,
    )
    db.session.commit()
    return jsonify(customers.full_snapshot(created)), 201


# Feature modules add their routes to `bp`; importing them here registers them.
from formflow.api import attachments, cases, ledger, payment_webhook, processes  # noqa: E402, F401
