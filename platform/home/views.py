"""Home page per role, language switch, health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from formflow.auth.decorators import permission_required
from formflow.extensions import db, utcnow
from formflow.home.dashboard import panels_for
from formflow.i18n import LANG_COOKIE
from formflow.safe_redirect import safe_next

bp = Blueprint("home", __name__)


@bp.route("/")
@permission_required("home.view")
def index():
    return render_template("home/index.html", panels=panels_for(current_user))


@bp.route("/dashboard")
@permission_required("dashboard.read")
def dashboard():
    from formflow.home.charts import all_charts
    from formflow.rules.operators import business_today

    return render_template("home/dashboard.html", charts=all_charts(business_today(), utcnow()))


@bp.route("/lang/<code>")
def set_language(code: str):
    target = safe_next(request.args.get("next"), url_for("home.index"))
    response = make_response(redirect(target))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/healthz")
def healthz():
    db.session.execute(sa.text("SELECT 1"))
    return jsonify({"status": "ok"})
