"""The month close in the UI: each check with its outcome, the bank's closing balances, the close,
and reopening (asked for by one person, approved by another). Routes on the reconcile blueprint."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow.auth.decorators import permission_required
from formflow.errors import Conflict, Forbidden, Invalid, NotFound
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


def _act(month: str, action, success: str, given=None):
    """Run `action`; on bad input the page again with its messages (422), on a refusal the page
    with the refusal said; else commit and say `success`."""
    try:
        action()
    except Invalid as invalid:
        db.session.rollback()
        return _period_page(month, invalid.errors, given, 422)
    except (Conflict, Forbidden, NotFound) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for("reconcile.period", month=month))
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("reconcile.period", month=month))


@bp.route("/periods/<month>/close", methods=["POST"])
@permission_required("periods.close")
def period_close(month: str):
    month = listing.require_month(month)
    given = listing.given_balances(request.form)
    return _act(
        month,
        lambda: closing.close(month, given, actor=current_user),
        _("%(month)s is closed.", month=month),
        given,
    )


@bp.route("/periods/<month>/reopen-request", methods=["POST"])
@permission_required("periods.close")
def period_reopen_request(month: str):
    month = listing.require_month(month)
    reason = request.form.get("reason", "")
    return _act(
        month, lambda: periods.request_reopen(month, reason, actor=current_user),
        _("Reopening %(month)s waits for a second person's approval.", month=month),
    )  # fmt: skip


@bp.route("/periods/<month>/reopen-approve", methods=["POST"])
@permission_required("periods.close")
def period_reopen_approve(month: str):
    month = listing.require_month(month)
    return _act(
        month,
        lambda: periods.approve_reopen(month, actor=current_user),
        _("%(month)s is open again.", month=month),
    )
