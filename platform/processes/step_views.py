"""The page that inserts a workflow step, on the processes blueprint
(formflow.processes.step_editor holds the logic)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow.auth.decorators import permission_required
from formflow.auth.permissions import ROLES
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.processes import diagram, services
from formflow.processes import step_editor as editor
from formflow.processes.editor_problems import by_field
from formflow.processes.forms import DraftEditorForm
from formflow.processes.views import bp


@bp.route("/<key>/steps/new", methods=["GET", "POST"])
@permission_required("processes.manage")
def new_step(key: str):
    latest = services.latest_version(key)
    form = DraftEditorForm()
    if request.method == "GET":
        form.base.data = latest.sha256
        return _page(latest, form, editor.Step(after=request.args.get("after", "")))
    step = editor.from_form(request.form)
    if not form.validate_on_submit():
        return _page(latest, form, step, [{"pointer": "", "message": _("Reload the page.")}], 400)
    try:
        spec = editor.inserted(latest.spec, step, services.check_spec)
        result = services.new_draft_from_edit(
            key, spec, actor=current_user, source="workflow", expected_sha256=form.base.data
        )
    except Invalid as invalid:
        return _page(latest, form, step, invalid.errors, 422)
    except Conflict as conflict:
        return _page(latest, form, step, [{"pointer": "", "message": conflict.message}], 409)
    db.session.commit()
    flash(
        _(
            "The step is added in draft version %(number)d: see it in the diagram, then publish.",
            number=result.version.number,
        ),
        "success",
    )
    return redirect(url_for("processes.show", key=key, _anchor="workflow"))


def _page(latest, form, step, problems=(), status: int = 200):
    base = "/workflow/states/" + (step.name or "-") + "/"
    at_fields, rest = by_field(problems, base, editor.FIELDS)
    page = render_template(
        "processes/step_new.html",
        version=latest,
        process=latest.process,
        form=form,
        step=step,
        arrows=editor.arrows(latest.spec),
        roles=ROLES,
        at_fields=at_fields,
        problems=rest,
        diagram=diagram.workflow_svg(latest.spec),
    )
    return page, status
