"""Management fees in the UI: the plans with their items and subscriptions, and the charges
grid (subscriptions × months) that shows what each fee run did."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from formflow.auth.decorators import permission_required
from formflow.billing import grid
from formflow.billing.models import FeePlan, FeePlanVersion, Subscription
from formflow.extensions import db
from formflow.pagination import next_page_url
from formflow.rules.operators import business_today

bp = Blueprint("billing", __name__, url_prefix="/billing")


@bp.route("/")
@permission_required("billing.read")
def index():
    latest = (
        sa.select(FeePlanVersion.plan_id, sa.func.max(FeePlanVersion.number).label("number"))
        .group_by(FeePlanVersion.plan_id)
        .subquery()
    )
    plans = db.session.execute(
        sa.select(FeePlan, FeePlanVersion)
        .join(latest, latest.c.plan_id == FeePlan.id)
        .join(
            FeePlanVersion,
            (FeePlanVersion.plan_id == FeePlan.id) & (FeePlanVersion.number == latest.c.number),
        )
        .order_by(FeePlan.key)
    ).all()
    counts = dict(
        db.session.execute(
            sa.select(Subscription.plan_id, sa.func.count())
            .where(Subscription.status == "active")
            .group_by(Subscription.plan_id)
        ).all()
    )
    return render_template("billing/index.html", plans=plans, counts=counts)


@bp.route("/charges")
@permission_required("billing.read")
def charges():
    try:
        end = (
            date.fromisoformat(request.args.get("end", "") + "-01")
            if request.args.get("end")
            else business_today()
        )
    except ValueError:
        end = business_today()
    count = min(max(request.args.get("months", 6, type=int) or 6, 1), 24)
    found = grid.charges_grid(end, count=count, after=request.args.get("after", type=int))
    return render_template(
        "billing/charges.html",
        grid=found,
        end=end.isoformat()[:7],
        count=count,
        next_url=next_page_url("billing.charges", "after", found.next_after),
    )
