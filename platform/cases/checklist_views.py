"""Ticking a case's checklist from the case page (the panel is templates/workflows/_checklist.html)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _

from formflow.auth.current import acting_user
from formflow.auth.decorators import permission_required
from formflow.auth.permissions import require
from formflow.cases import services as cases
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.workflows import checklists

bp = Blueprint("checklists", __name__)


@bp.route("/cases/<int:case_id>/checklist/<item_id>", methods=["POST"])
@permission_required("cases.read")
def tick(case_id: int, item_id: str):
    """Tick (done=1, the default) or untick (done=0) an item, with a note and/or a file."""
    case, user = cases.get(case_id), acting_user()
    require(user, "cases.read", case)
    done = request.form.get("done", "1") not in ("0", "false", "")
    token = request.form.get("attachment_token", "").strip() or None
    upload = request.files.get("file")
    try:
        if done and upload is not None and upload.filename:
            token = checklists.store_evidence(case, item_id, upload, user)
        item = checklists.tick(
            case, item_id, user, done=done, note=request.form.get("note", ""), attachment_token=token
        )
    except Invalid as invalid:
        db.session.rollback()
        for error in invalid.errors:
            flash(error["message"], "error")
    else:
        db.session.commit()
        label = item.label_text()
        flash(_("Ticked: %(item)s.", item=label) if done else _("Unticked: %(item)s.", item=label), "success")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="checklist"), 303)
