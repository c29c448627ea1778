"""The page that adds a form field, with a preview of the form as staff see it, on the
processes blueprint (formflow.processes.field_editor holds the logic)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow import forms
from formflow.auth.decorators import permission_required
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.processes import field_editor as editor
from formflow.processes import services
from formflow.processes.editor_problems import by_field
from formflow.processes.forms import DraftEditorForm
from formflow.processes.views import bp


@bp.route("/<key>/fields/new", methods=["GET", "POST"])
@permission_required("processes.manage")
def new_field(key: str):
    latest = services.latest_version(key)
    form = DraftEditorForm()
    if request.method == "GET":
        form.base.data = latest.sha256
        return _page(latest, form, editor.NewField(), preview=_preview(latest.spec))
    field = editor.from_form(request.form)
    if not form.validate_on_submit():
        return _page(latest, form, field, [{"pointer": "", "message": _("Reload the page.")}], 400)
    try:
        spec = editor.with_field(latest.spec, field, services.check_spec)
        if request.form.get("command") == "preview":
            return _page(latest, form, field, preview=_preview(spec))
        result = services.new_draft_from_edit(
            key, spec, actor=current_user, source="form", expected_sha256=form.base.data
        )
    except Invalid as invalid:
        return _page(latest, form, field, invalid.errors, 422, preview=_preview(latest.spec))
    except Conflict as conflict:
        return _page(latest, form, field, [{"pointer": "", "message": conflict.message}], 409)
    db.session.commit()
    flash(
        _(
            "The field is added in draft version %(number)d: publish it to give new cases the form.",
            number=result.version.number,
        ),
        "success",
    )
    return redirect(url_for("processes.show", key=key))


def _preview(spec: dict):
    """The form as staff see it on a new case (every field, the rules' conditions aside)."""
    form = spec.get("form") or {}
    return forms.render(form.get("schema") or {}, form.get("uiSchema") or {}, None)


def _page(latest, form, field, problems=(), status: int = 200, preview=None):
    at_fields, rest = by_field(problems, "/form/fields/", editor.FIELDS)
    page = render_template(
        "processes/field_new.html",
        version=latest,
        process=latest.process,
        form=form,
        field=field,
        kinds=editor.KINDS,
        fields=editor.top_fields(latest.spec),
        at_fields=at_fields,
        problems=rest,
        preview=preview,
    )
    return page, status
