"""Admin pages for processes: list, versions, template upload/import, export, publish, table
grids, editing (trying rules and what-if replays: formflow/trials/views.py, on this blueprint)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow import tables
from formflow.auth.decorators import permission_required
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.pagination import next_page_url
from formflow.processes import checklist_editor, diagram, parameter_tables, revisions, services
from formflow.processes.forms import ConfirmImportForm, EditForm, ImportForm, PublishForm
from formflow.processes.titles import state_title

bp = Blueprint("processes", __name__, url_prefix="/admin/processes")


@bp.route("/")
@permission_required("processes.read")
def index():
    rows, next_key = services.page(
        after_key=request.args.get("after") or None, size=current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "processes/index.html", rows=rows, next_url=next_page_url("processes.index", "after", next_key)
    )


def _submitted_spec(form: ImportForm) -> dict:
    """The uploaded file's spec, else the pasted one; Invalid (with line/column) when unreadable."""
    upload = form.file.data
    if upload and upload.filename:
        return services.parse_spec_text(upload.read(), filename=upload.filename)
    if form.text.data and form.text.data.strip():
        return services.parse_spec_text(form.text.data)
    raise Invalid([{"pointer": "", "message": _("Choose a template file or paste its JSON.")}])


def _confirm_page(summary: services.ImportSummary, spec: dict, status: int = 200, moved: bool = False):
    form = ConfirmImportForm(spec=json.dumps(spec, ensure_ascii=False), base=summary.base)
    page = render_template("processes/import_confirm.html", summary=summary, form=form, moved=moved)
    return page, status


@bp.route("/import", methods=["GET", "POST"])
@permission_required("processes.manage")
def import_start():
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template("processes/import.html", form=form), 422 if form.is_submitted() else 200
    try:
        spec = _submitted_spec(form)
        summary = services.preview_import(spec)
    except Invalid as invalid:
        return render_template("processes/import.html", form=form, errors=invalid.errors), 422
    return _confirm_page(summary, spec)


@bp.route("/import/confirm", methods=["POST"])
@permission_required("processes.manage")
def import_confirm():
    form = ConfirmImportForm()
    try:
        if not form.validate_on_submit():
            raise Invalid([{"pointer": "", "message": _("Nothing to import; start again.")}])
        spec = services.parse_spec_text(form.spec.data)
        summary = services.preview_import(spec)  # checked again: never trust the hidden field
    except Invalid as invalid:
        retry = ImportForm(formdata=None, text=form.spec.data or "")
        return render_template("processes/import.html", form=retry, errors=invalid.errors), 422
    if summary.base != (form.base.data or ""):
        return _confirm_page(summary, spec, status=409, moved=True)
    result = services.import_spec(spec, actor=current_user)
    db.session.commit()
    flash(_import_message(result), "success")
    return redirect(url_for("processes.show", key=result.process.key))


def _import_message(result: services.ImportResult) -> str:
    number = result.version.number
    if result.created_process:
        return _(
            "Process %(key)s created as draft version %(number)d.", key=result.process.key, number=number
        )
    if not result.changed:
        return _("Nothing changed: version %(number)d is identical.", number=number)
    return _("Saved as draft version %(number)d.", number=number)


def _draft_revisions(latest):
    """(the draft, its revisions newest first, their authors) when `latest` is a draft."""
    if latest.status != "draft":
        return None
    found = revisions.of(latest)
    return latest, found, {revision.id: revisions.author(revision) for revision in found}


def _show_page(key: str, errors: list[dict] | None = None, status: int = 200):
    latest = services.latest_version(key)  # read once: the revisions, checklists and diagram are its
    page = render_template(
        "processes/show.html",
        process=latest.process,
        versions=services.history(key),
        revisions=_draft_revisions(latest),
        checklists=checklist_editor.states_with_checklists(latest.spec),
        diagram=diagram.workflow_svg(latest.spec),
        steps=[
            (name, state_title(latest.spec, name))
            for name in (latest.spec.get("workflow") or {}).get("states") or {}
        ],
        publish_form=PublishForm(formdata=None),
        errors=errors or [],
    )
    return page, status


@bp.route("/<key>")
@permission_required("processes.read")
def show(key: str):
    return _show_page(key)


@bp.route("/<key>/versions/<int:number>")
@permission_required("processes.read")
def version(key: str, number: int):
    found = services.version(key, number)
    return render_template(
        "processes/version.html",
        version=found,
        spec_text=services.spec_text(found.spec),
        diagram=diagram.workflow_svg(found.spec),
    )


@bp.route("/<key>/publish", methods=["POST"])
@permission_required("processes.manage")
def publish(key: str):
    form = PublishForm()
    if not form.validate_on_submit():
        return _show_page(key, [{"pointer": "", "message": _("Choose a version to publish.")}], 422)
    try:
        published = services.publish(
            key, actor=current_user, number=form.number.data, expected_sha256=form.sha256.data
        )
    except Invalid as invalid:
        return _show_page(key, invalid.errors, 422)
    db.session.commit()
    flash(_("Version %(number)d is published.", number=published.number), "success")
    return redirect(url_for("processes.show", key=key))


@bp.route("/<key>/versions/<int:number>/draft", methods=["POST"])
@permission_required("processes.manage")
def draft_from(key: str, number: int):
    """Roll back: a new draft with version `number`'s spec, then its changes against the published one."""
    form = PublishForm()
    if not form.validate_on_submit() or form.number.data != number:
        message = _("Choose the version to make a draft from.")
        return _show_page(key, [{"pointer": "", "message": message}], 422)
    try:
        result = services.draft_from_version(
            key, number, actor=current_user, expected_sha256=form.sha256.data
        )
    except Conflict as conflict:
        return _show_page(key, [{"pointer": "", "message": conflict.message}], 409)
    db.session.commit()
    flash(
        _(
            "Version %(new)d is a new draft made from version %(number)d.",
            new=result.version.number,
            number=number,
        ),
        "success",
    )
    return redirect(url_for("processes.compare", key=key, to=result.version.number))


@bp.route("/<key>/revisions/<int:number>/restore", methods=["POST"])
@permission_required("processes.manage")
def restore_revision(key: str, number: int):
    """Undo to revision `number` of the draft (saved as its newest revision)."""
    form = PublishForm()
    if not form.validate_on_submit():
        return _show_page(key, [{"pointer": "", "message": _("Choose the revision to restore.")}], 422)
    try:
        services.restore_revision(key, number, actor=current_user, expected_sha256=form.sha256.data)
    except Conflict as conflict:
        return _show_page(key, [{"pointer": "", "message": conflict.message}], 409)
    db.session.commit()
    flash(_("Revision %(number)d is the draft again.", number=number), "success")
    return redirect(url_for("processes.show", key=key))


@bp.route("/<key>/export")
@permission_required("processes.read")
def export(key: str):
    number = request.args.get("version", type=int)
    text = services.spec_text(services.export_spec(key, number))
    filename = f"{key}-v{number}.json" if number else f"{key}.json"
    return Response(
        text,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- parameter table grids and what-if (services: processes/parameter_tables.py, trials) -------


@bp.route("/<key>/tables/<table_key>", methods=["GET", "POST"])
@permission_required("processes.manage")
def table_grid(key: str, table_key: str):
    """A process table as a grid; saving stores a draft (never the published version), then
    shows the draft's what-if."""
    latest = services.latest_version(key)
    index, table = tables.process_table(latest, table_key)
    if request.method == "GET":
        return _grid_page(latest, table, tables.Grid.from_table(table), latest.sha256)
    base = request.form.get("base", "")
    grid, rows = tables.edit_grid(table, request.form)
    status = 422 if grid.has_errors else 200
    if rows is not None:
        try:
            result = parameter_tables.save_process_table(
                key, table_key, rows, base_sha256=base, actor=current_user
            )
        except (Invalid, Conflict) as problem:
            grid.place(problem.errors, f"/tables/{index}")
            status = problem.status
        else:
            db.session.commit()
            flash(_import_message(result), "success")
            if not result.changed:
                return redirect(url_for("processes.show", key=key))
            return redirect(url_for("processes.whatif", key=key, version=result.version.number))
    return _grid_page(latest, table, grid, base, status)


def _grid_page(latest, table: dict, grid, base: str, status: int = 200):
    page = render_template("processes/table_grid.html", version=latest, table=table, grid=grid, base=base)
    return page, status


@bp.route("/<key>/edit", methods=["GET", "POST"])
@permission_required("processes.manage")
def edit(key: str):
    process = services.get_process(key)
    form = EditForm()
    if request.method == "GET":
        latest = services.latest_version(key)
        form.text.data, form.base.data = services.spec_text(latest.spec), latest.sha256
    errors, status, tried = [], 200, None
    if form.validate_on_submit():
        try:
            spec = tried = services.parse_spec_text(form.text.data)
            result = services.new_draft_from_edit(
                key, spec, actor=current_user, expected_sha256=form.base.data or None
            )
        except Invalid as invalid:
            errors = invalid.errors
        except Conflict as conflict:  # the text typed stays in the form
            errors, status = [{"pointer": "", "message": conflict.message}], 409
        else:
            db.session.commit()
            flash(_import_message(result), "success")
            return redirect(url_for("processes.show", key=key))
    if status == 200 and (errors or form.errors):
        status = 422
    shown = diagram.workflow_svg(tried) if errors and isinstance(tried, dict) else ""
    return render_template(
        "processes/edit.html", process=process, form=form, errors=errors, diagram=shown
    ), status
