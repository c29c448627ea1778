"""The checklist editor's page, on the processes blueprint: a state's checklist as rows, saved
into the draft (formflow.processes.checklist_editor holds the logic)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from formflow.auth.decorators import permission_required
from formflow.errors import NotFound
from formflow.processes import checklist_editor as editor
from formflow.processes import services
from formflow.processes.editor_problems import whole_number
from formflow.processes.editor_saving import save_edit
from formflow.processes.forms import DraftEditorForm
from formflow.processes.titles import state_title
from formflow.processes.views import bp


@bp.route("/<key>/checklists/<state>", methods=["GET", "POST"])
@permission_required("processes.manage")
def edit_checklist(key: str, state: str):
    latest = services.latest_version(key)
    if editor.state_of(latest.spec, state) is None:
        raise NotFound(_("Process %(key)s has no state %(state)s with a checklist.", key=key, state=state))
    form = DraftEditorForm()
    if request.method == "GET":
        form.base.data = latest.sha256
        return _page(latest, state, form, editor.rows_of(latest.spec, state))
    rows = editor.rows_from_form(request.form)
    command = request.form.get("command", "save")
    if not form.validate_on_submit():
        return _page(
            latest,
            state,
            form,
            rows,
            problems=[{"pointer": "", "message": _("Reload the page.")}],
            status=400,
        )
    if command != "save":  # add, remove, move: shown again, nothing saved yet
        return _page(latest, state, form, editor.changed(rows, command), focus=_focus(command, len(rows)))

    def saved(number: int):
        message = _(
            "The checklist of “%(state)s” is saved in draft version %(number)d. Publish it to give new cases "
            "the checklist; cases already running keep theirs.",
            state=state_title(latest.spec, state),
            number=number,
        )
        flash(message, "success")
        return redirect(url_for("processes.edit_checklist", key=key, state=state))

    return save_edit(
        key,
        lambda: editor.with_rows(latest.spec, state, rows, services.check_spec),
        source="checklist",
        base=form.base.data,
        page=lambda problems, status: _page(latest, state, form, rows, problems=problems, status=status),
        saved=saved,
    )


def _focus(command: str, count: int) -> str | None:
    """The id of the control to focus after a button: the moved row's same button, a new row's id."""
    verb, _sep, where = command.partition(":")
    if verb == "add":
        return f"items-{count}-id"
    if verb in ("up", "down") and whole_number(where) is not None:
        index = int(where) + (-1 if verb == "up" else 1)
        return f"move-{verb}-{max(index, 0)}"
    return None


def _page(latest, state: str, form, rows, *, problems=None, status: int = 200, focus: str | None = None):
    at_rows, rest = editor.errors_by_row(problems or [], state, len(rows))
    page = render_template(
        "processes/checklist_edit.html",
        version=latest,
        process=latest.process,
        state=state,
        state_label=state_title(latest, state),
        form=form,
        rows=rows,
        at_rows=at_rows,
        problems=rest,
        focus=focus,
        choices=editor.REQUIRED_CHOICES,
    )
    return page, status
