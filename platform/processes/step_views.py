"""The page that inserts a workflow step, on the processes blueprint
(formflow.processes.step_editor holds the logic)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from formflow.auth.decorators import permission_required
from formflow.auth.permissions import ROLES
from formflow.processes import diagram, services
from formflow.processes import step_editor as editor
from formflow.processes.editor_problems import by_field
from formflow.processes.editor_saving import save_edit
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

    def saved(number: int):
        message = _("The step is added in draft version %(number)d: see it in the diagram, then publish.",
                    number=number)  # fmt: skip
        flash(message, "success")
        return redirect(url_for("processes.show", key=key, _anchor="workflow"))

    return save_edit(
        key,
        lambda: editor.inserted(latest.spec, step, services.check_spec),
        source="workflow",
        base=form.base.data,
        page=lambda problems, status: _page(latest, form, step, problems, status),
        saved=saved,
    )


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
