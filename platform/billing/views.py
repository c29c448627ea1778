"""Management fees in the UI: the plans with their items and subscriptions, the plan editor (each
save a new version), and the charges grid (subscriptions × months) that shows what each fee run
did."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow.auth.decorators import permission_required
from formflow.billing import grid, plan_form, plans
from formflow.billing.models import FeePlan, FeePlanVersion, Subscription
from formflow.errors import Invalid, NotFound
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


# --- the plan editor ---------------------------------------------------------------------------


@bp.route("/plans/new", methods=["GET", "POST"])
@permission_required("billing.plans")
def plan_new():
    return _plan_editor(None)


@bp.route("/plans/<key>/edit", methods=["GET", "POST"])
@permission_required("billing.plans")
def plan_edit(key: str):
    plan = db.session.execute(sa.select(FeePlan).where(FeePlan.key == key)).scalar_one_or_none()
    if plan is None:
        raise NotFound(_("No fee plan “%(key)s”.", key=key))
    return _plan_editor(plan)


def _plan_editor(plan: FeePlan | None):
    version = plans.latest_version(plan.id) if plan is not None else None
    if request.method == "GET":
        definition = version.definition if version else {}
        values = {
            "key": plan.key if plan else "",
            "name_zh": plan.name_zh if plan else "",
            "name_en": plan.name_en if plan else "",
            "short": definition.get("short") or "partial",
            "due_days": definition.get("due_days", ""),
        }
        return _editor_page(plan, version, values, plan_form.rows_of(definition), {})
    key = plan.key if plan is not None else request.form.get("key", "").strip()
    names = {"zh-CN": request.form.get("name_zh", "").strip(), "en": request.form.get("name_en", "").strip()}
    definition, item_rows = plan_form.definition_from(request.form)
    try:
        wrong_names = _name_problems(plan, key, names)
        if wrong_names:
            raise Invalid([*wrong_names, *plans.check_plan(definition)])
        saved = plans.save_plan(key, names, definition, actor=current_user)
    except Invalid as invalid:
        db.session.rollback()
        values = {
            "key": key,
            "name_zh": names["zh-CN"],
            "name_en": names["en"],
            "short": request.form.get("short", ""),
            "due_days": request.form.get("due_days", ""),
        }
        errors = plan_form.on_rows(invalid.errors, item_rows)
        return _editor_page(plan, version, values, plan_form.form_rows(request.form), errors), 422
    if plan is not None:
        plan.name_zh, plan.name_en = names["zh-CN"], names["en"]
    db.session.commit()
    flash(_("Plan %(key)s saved as version %(n)d.", key=key, n=saved.number), "success")
    return redirect(url_for("billing.index"))


def _name_problems(plan: FeePlan | None, key: str, names: dict) -> list[dict]:
    """A new plan's key free and well-formed, both names given."""
    problems = []
    if plan is None and not plans.KEY.fullmatch(key):
        message = _("A key is lower-case letters, digits and “_”, starting with a letter.")
        problems.append({"pointer": "/key", "message": message})
    elif plan is None and db.session.execute(sa.select(FeePlan.id).where(FeePlan.key == key)).first():
        problems.append({"pointer": "/key", "message": _("Another plan has this key.")})
    for language, pointer in (("zh-CN", "/name_zh"), ("en", "/name_en")):
        if not names[language]:
            problems.append({"pointer": pointer, "message": _("This field is required.")})
    return problems


def _editor_page(plan, version, values, rows, errors):
    return render_template(
        "billing/plan_edit.html", plan=plan, version=version, values=values, rows=rows, errors=errors
    )
