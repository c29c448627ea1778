"""Staff's side of the self-service links, on the customer page: make one (an expiry to
choose), revoke one. The list with each link's URL is the customer page's section
(selfservice/customer_section.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow.auth.decorators import permission_required
from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.selfservice import links

bp = Blueprint("selfservice_links", __name__, url_prefix="/customers")


def _back(code: str):
    return redirect(url_for("customers.show", code=code, _anchor="self-service"))


@bp.route("/<code>/self-service-links", methods=["POST"])
@permission_required("selfservice.manage")
def create(code: str):
    customer = customers.get_by_code(code)
    try:
        days, note = request.form.get("days", links.DEFAULT_DAYS), request.form.get("note", "")
        link = links.create(customer, days, actor=current_user, note=note)
    except Invalid as invalid:
        db.session.rollback()
        for error in invalid.errors:
            flash(error["message"], "error")
        return _back(code)
    db.session.commit()
    message = _(
        "Self-service link #%(id)d made: copy it from the list below and send it to the customer.", id=link.id
    )
    flash(message, "success")
    return _back(code)


@bp.route("/<code>/self-service-links/<int:link_id>/revoke", methods=["POST"])
@permission_required("selfservice.manage")
def revoke(code: str, link_id: int):
    customer = customers.get_by_code(code)
    try:
        link = links.link_of(customer, link_id)
    except Invalid as invalid:
        db.session.rollback()
        flash(invalid.errors[0]["message"], "error")
        return _back(code)
    links.revoke(link, actor=current_user)
    db.session.commit()
    flash(_("Self-service link #%(id)d revoked: it opens nothing any more.", id=link.id), "success")
    return _back(code)
