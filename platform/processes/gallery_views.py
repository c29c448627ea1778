"""The template gallery's pages, on the processes blueprint (formflow.processes.gallery holds
the logic): the cards, a template's preview with its import, the import itself."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow.auth.decorators import permission_required
from formflow.auth.permissions import can
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.processes import gallery
from formflow.processes.forms import GalleryImportForm
from formflow.processes.views import bp


@bp.route("/gallery")
@permission_required("processes.read")
def gallery_index():
    return render_template("processes/gallery.html", templates=gallery.templates())


@bp.route("/gallery/<slug>", methods=["GET", "POST"])
@permission_required("processes.read")
def gallery_template(slug: str):
    """GET: the template and, for ?key=, what importing it under that key does. POST (admins):
    the import."""
    found = gallery.template(slug)
    form = GalleryImportForm()
    if request.method == "GET":
        form.key.data = request.args.get("key") or found.key
        return _page(found, form)
    if not can(current_user, "processes.manage"):
        return _page(
            found, form, problems=[{"pointer": "", "message": _("You may not do this.")}], status=403
        )
    if not form.validate_on_submit():
        return _page(found, form, status=422)
    try:
        result = gallery.import_template(
            found, form.key.data, actor=current_user, expected_sha256=form.base.data or None
        )
    except Invalid as invalid:
        return _page(found, form, problems=invalid.errors, status=422)
    except Conflict as conflict:
        return _page(found, form, problems=[{"pointer": "", "message": conflict.message}], status=409)
    db.session.commit()
    key, number = result.process.key, result.version.number
    if result.action == "create":
        message = _(
            "Imported as the new process %(key)s, draft version %(number)d: publish it to start cases.",
            key=key,
            number=number,
        )
    elif result.action == "unchanged":
        message = _("Process %(key)s already is this template: nothing changed.", key=key)
    else:
        message = _(
            "Imported into %(key)s as draft version %(number)d: review and publish it.",
            key=key,
            number=number,
        )
    flash(message, "success")
    return redirect(url_for("processes.show", key=key))


def _page(found, form, *, problems=None, status: int = 200):
    summary, key_problems = None, [p["message"] for p in problems or [] if p.get("pointer") == "/key"]
    if found.spec and form.key.data and not key_problems:
        try:
            summary = gallery.preview(found, form.key.data)
        except Invalid as invalid:
            key_problems = [error["message"] for error in invalid.errors if error.get("pointer") == "/key"]
    if summary is not None and summary.action != "create" and not form.base.data:
        form.base.data = summary.base_sha256
    rest = [p for p in problems or [] if p.get("pointer") != "/key"]
    page = render_template(
        "processes/gallery_template.html",
        template=found,
        form=form,
        summary=summary,
        key_problems=key_problems + list(form.key.errors),
        problems=rest,
    )
    return page, status
