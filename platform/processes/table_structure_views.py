"""The pages that add a process table and change a table's columns (or remove the table), on
the processes blueprint; the logic is in formflow.processes.table_structure. The grid of a
table's rows is processes.table_grid."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from formflow.auth.decorators import permission_required
from formflow.processes import services
from formflow.processes import table_structure as structure
from formflow.processes.editor_saving import save_edit
from formflow.processes.forms import DraftEditorForm
from formflow.processes.views import bp
from formflow.tables.cells import COLUMN_TYPES


@bp.route("/<key>/tables/new", methods=["GET", "POST"])
@permission_required("processes.manage")
def new_table(key: str):
    return _edited(key, None)


@bp.route("/<key>/tables/<table_key>/columns", methods=["GET", "POST"])
@permission_required("processes.manage")
def table_columns(key: str, table_key: str):
    return _edited(key, table_key)


@bp.route("/<key>/tables/<table_key>/remove", methods=["POST"])
@permission_required("processes.manage")
def remove_table(key: str, table_key: str):
    latest = services.latest_version(key)
    form = DraftEditorForm()
    table = _table(latest.spec, table_key)
    if table is None or not form.validate_on_submit():
        flash(_("Reload the page."), "error")
        return redirect(url_for("processes.show", key=key))
    settings = structure.settings_of(table)

    def removed(number: int):
        flash(_("The table is removed in draft version %(number)d.", number=number), "success")
        return redirect(url_for("processes.show", key=key))

    return save_edit(
        key,
        lambda: structure.without_table(latest.spec, table_key, services.check_spec),
        source="table",
        base=form.base.data,
        page=lambda problems, status: _page(latest, form, table_key, settings, problems, status),
        saved=removed,
    )


def _table(spec: dict, table_key: str) -> dict | None:
    return next(
        (t for t in spec.get("tables") or [] if isinstance(t, dict) and t.get("key") == table_key), None
    )


def _edited(key: str, table_key: str | None):
    latest = services.latest_version(key)
    form = DraftEditorForm()
    table = _table(latest.spec, table_key) if table_key else None
    if table_key and table is None:
        flash(_("The process has no table %(key)s.", key=table_key), "error")
        return redirect(url_for("processes.show", key=key))
    if request.method == "GET":
        form.base.data = latest.sha256
        return _page(
            latest, form, table_key, structure.settings_of(table) if table else structure.TableSettings()
        )
    settings = structure.from_form(request.form)
    if not form.validate_on_submit():
        return _page(
            latest, form, table_key, settings, [{"pointer": "", "message": _("Reload the page.")}], 400
        )
    command = request.form.get("command", "save")
    if command != "save":
        return _page(latest, form, table_key, structure.changed(settings, command))

    def saved(number: int):
        flash(_("The table is saved in draft version %(number)d.", number=number), "success")
        return redirect(url_for("processes.table_grid", key=key, table_key=settings.key))

    return save_edit(
        key,
        lambda: structure.with_table(latest.spec, settings, services.check_spec, original=table_key),
        source="table",
        base=form.base.data,
        page=lambda problems, status: _page(latest, form, table_key, settings, problems, status),
        saved=saved,
    )


def _page(latest, form, table_key, settings, problems=(), status: int = 200):
    at_inputs: dict[str, list[str]] = {}
    rest = []
    for problem in problems:
        pointer = problem.get("pointer") or ""
        if pointer.startswith(structure.AT + "/"):
            at_inputs.setdefault(pointer.removeprefix(structure.AT + "/"), []).append(problem["message"])
        else:
            rest.append(problem)
    page = render_template(
        "processes/table_columns.html",
        version=latest,
        process=latest.process,
        form=form,
        table_key=table_key,
        settings=settings,
        types=COLUMN_TYPES,
        at_inputs=at_inputs,
        problems=rest,
    )
    return page, status
