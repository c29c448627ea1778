"""The month close in the UI: each check with its outcome, the bank's closing balances, the close,
and reopening (asked for by one person, approved by another). Routes on the reconcile blueprint."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow.auth.decorators import permission_required
from formflow.errors import Conflict, Forbidden, Invalid
from formflow.extensions import db
from formflow.ledger import periods
from formflow.reconcile import closing, listing
from formflow.reconcile.views import bp


@bp.route("/periods/<month>")
@permission_required("reconcile.read")
def period(month: str):
    return _period_page(listing.require_month(month))


def _period_page(month, errors=(), given=None, status=200):
    result = closing.check(month, given or {})
    page = render_template(
        "reconcile/period.html",
        month=month,
        result=result,
        errors=list(errors),
        given=given or {},
        money=listing.money,
        can_close=result.last_day < periods.today(),
    )
    return page, status


@bp.route("/periods/<month>/close", methods=["POST"])
@permission_required("periods.close")
def period_close(month: str):
    month = listing.require_month(month)
    given = listing.given_balances(request.form)
    try:
        closing.close(month, given, actor=current_user)
    except Invalid as invalid:
        db.session.rollback()
        return _period_page(month, invalid.errors, given, 422)
    except Conflict as conflict:
        db.session.rollback()
        flash(conflict.message, "error")
        return redirect(url_for("reconcile.period", month=month))
    db.session.commit()
    flash(_("%(month)s is closed.", month=month), "success")
    return redirect(url_for("reconcile.period", month=month))


@bp.route("/periods/<month>/reopen-request", methods=["POST"])
@permission_required("periods.close")
def period_reopen_request(month: str):
    month = listing.require_month(month)
    try:
        periods.request_reopen(month, request.form.get("reason", ""), actor=current_user)
    except Invalid as invalid:
        db.session.rollback()
        return _period_page(month, invalid.errors, None, 422)
    except Conflict as conflict:
        db.session.rollback()
        flash(conflict.message, "error")
        return redirect(url_for("reconcile.period", month=month))
    db.session.commit()
    flash(_("Reopening %(month)s waits for a second person's approval.", month=month), "success")
    return redirect(url_for("reconcile.period", month=month))


@bp.route("/periods/<month>/reopen-approve", methods=["POST"])
@permission_required("periods.close")
def period_reopen_approve(month: str):
    month = listing.require_month(month)
    try:
        periods.approve_reopen(month, actor=current_user)
    except (Conflict, Forbidden) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for("reconcile.period", month=month))
    db.session.commit()
    flash(_("%(month)s is open again.", month=month), "success")
    return redirect(url_for("reconcile.period", month=month))
