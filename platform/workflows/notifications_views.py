"""The notifications page: mine (and my roles') newest first; mark one or all read."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from formflow.auth.current import acting_user
from formflow.auth.decorators import permission_required
from formflow.extensions import db
from formflow.pagination import next_page_url
from formflow.safe_redirect import safe_next
from formflow.workflows import notify

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

#: every logged-in user has notifications; each sees only their own (and their roles')
PERMISSION = "home.view"


@bp.route("/")
@permission_required(PERMISSION)
def index():
    user = acting_user()
    before = request.args.get("before", type=int)
    rows, cursor = notify.page(user, before=before, size=current_app.config["PAGE_SIZE"])
    return render_template(
        "notifications/index.html",
        rows=rows,
        unread=notify.unread_count(user),
        next_url=next_page_url("notifications.index", "before", cursor),
    )


@bp.route("/<int:notification_id>/read", methods=["POST"])
@permission_required(PERMISSION)
def read(notification_id: int):
    notification = notify.mark_read(notification_id, acting_user())
    db.session.commit()
    default = (
        url_for("cases.show", case_id=notification.case_id)
        if request.form.get("open") and notification.case_id
        else url_for("notifications.index")
    )
    return redirect(safe_next(request.form.get("next"), default))


@bp.route("/read-all", methods=["POST"])
@permission_required(PERMISSION)
def read_all():
    count = notify.mark_all_read(acting_user())
    db.session.commit()
    flash(_("%(n)d notifications marked as read.", n=count), "success")
    return redirect(url_for("notifications.index"))
