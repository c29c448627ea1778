"""A subscription's page (from the customer page): its plan, dates and charges, and finance's
changes — the end day and this customer's amounts, suspending and resuming (billing.subscriptions
holds the rules). Routes on the billing blueprint (the app factory imports this module)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow.auth.decorators import permission_required
from formflow.billing import subscriptions
from formflow.billing.models import FeeCharge
from formflow.billing.plans import item_titles, latest_version
from formflow.billing.views import bp
from formflow.errors import Invalid
from formflow.extensions import db

CHARGES = 36


@bp.route("/subscriptions/<int:subscription_id>")
@permission_required("billing.read")
def subscription(subscription_id: int):
    return _page(subscriptions.by_id(subscription_id))


@bp.route("/subscriptions/<int:subscription_id>/change", methods=["POST"])
@permission_required("billing.manage")
def subscription_change(subscription_id: int):
    found = subscriptions.by_id(subscription_id, lock=True)
    overrides = {
        key.removeprefix("override-"): value
        for key, value in request.form.items()
        if key.startswith("override-")
    }
    return _changed(
        found,
        lambda: subscriptions.change(found, request.form.get("end_date", ""), overrides, actor=current_user),
        _("The subscription is saved."),
    )


@bp.route("/subscriptions/<int:subscription_id>/suspend", methods=["POST"])
@permission_required("billing.manage")
def subscription_suspend(subscription_id: int):
    found = subscriptions.by_id(subscription_id, lock=True)
    return _changed(
        found,
        lambda: subscriptions.suspend(
            found, request.form.get("suspended_from", ""), request.form.get("reason", ""), actor=current_user
        ),
        _("The subscription is suspended: nothing is billed from that day on."),
    )


@bp.route("/subscriptions/<int:subscription_id>/resume", methods=["POST"])
@permission_required("billing.manage")
def subscription_resume(subscription_id: int):
    found = subscriptions.by_id(subscription_id, lock=True)
    return _changed(
        found,
        lambda: subscriptions.resume(found, request.form.get("resume_on", ""), actor=current_user),
        _("Billing starts again; the periods in between are skipped."),
    )


def _changed(found, change, done: str):
    try:
        change()
    except Invalid as invalid:
        db.session.rollback()
        return _page(subscriptions.by_id(found.id), invalid.errors, dict(request.form), 422)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("billing.subscription", subscription_id=found.id))


def _page(found, errors=(), values=None, status: int = 200):
    charges = db.session.execute(
        sa.select(FeeCharge)
        .where(FeeCharge.subscription_id == found.id)
        .order_by(FeeCharge.period.desc(), FeeCharge.item)
        .limit(CHARGES)
    ).scalars()
    version = latest_version(found.plan_id)
    page = render_template(
        "billing/subscription.html", subscription=found, version=version,
        charges=list(charges), titles=item_titles([version]),
        errors={e["pointer"]: e["message"] for e in errors}, values=values,
    )  # fmt: skip
    return page, status
