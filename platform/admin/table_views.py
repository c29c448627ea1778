"""Admin pages for global parameter tables: list, create, show (versions, who reads them),
edit as a grid (each save is a new version), and a draft of a process that reads the newest
(blueprint `tables`, /admin/tables: above formflow.tables and the processes that read them)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from formflow import tables
from formflow.auth.decorators import permission_required
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.pagination import next_page_url
from formflow.processes import parameter_tables
from formflow.tables import COLUMN_TYPES, Grid, TableDefinition

bp = Blueprint("tables", __name__, url_prefix="/admin/tables")


@bp.route("/")
@permission_required("processes.read")
def index():
    rows, next_key = tables.global_tables_page(
        after_key=request.args.get("after") or None, size=current_app.config["PAGE_SIZE"]
    )
    next_url = next_page_url("tables.index", "after", next_key)
    return render_template("rules/index.html", rows=rows, next_url=next_url)


@bp.route("/new", methods=["GET", "POST"])
@permission_required("processes.manage")
def new():
    if request.method == "GET":
        return render_template("rules/new.html", definition=TableDefinition(), types=COLUMN_TYPES)
    definition = TableDefinition.from_form(request.form)
    if definition.run(request.form.get("command", "")):
        return render_template("rules/new.html", definition=definition, types=COLUMN_TYPES)
    created = definition.create(actor=current_user)
    if created is None:
        return render_template("rules/new.html", definition=definition, types=COLUMN_TYPES), 422
    db.session.commit()
    flash(_("Table %(key)s created; now fill in its rows.", key=created.table.key), "success")
    return redirect(url_for("tables.edit", key=created.table.key))


@bp.route("/<key>")
@permission_required("processes.read")
def show(key: str):
    table = tables.get_global_table(key)
    latest = tables.latest_global_version(table)
    return render_template(
        "rules/show.html",
        table=table,
        version=latest,
        latest=latest,
        grid=Grid.from_table(latest.as_table()),
        history=tables.global_table_history(key),
        uses=parameter_tables.table_uses(key),
    )


@bp.route("/<key>/versions/<int:number>")
@permission_required("processes.read")
def version(key: str, number: int):
    found = tables.global_table_version(key, number)
    latest = tables.latest_global_version(found.table)
    return render_template(
        "rules/show.html",
        table=found.table,
        version=found,
        latest=latest,
        grid=Grid.from_table(found.as_table()),
        history=tables.global_table_history(key),
        uses=parameter_tables.table_uses(key),
    )


@bp.route("/<key>/edit", methods=["GET", "POST"])
@permission_required("processes.manage")
def edit(key: str):
    table = tables.get_global_table(key)
    latest = tables.latest_global_version(table)
    if request.method == "GET":
        grid, base = Grid.from_table(latest.as_table()), latest.number
        return render_template("rules/edit.html", table=table, grid=grid, base=base)
    base = request.form.get("base", type=int) or 0
    grid, rows = tables.edit_grid(latest.as_table(), request.form)
    status = 200 if rows is None and not grid.has_errors else 422
    if rows is not None:
        try:
            saved, created = tables.save_global_table(key, rows, expected_number=base, actor=current_user)
        except (Invalid, Conflict) as problem:
            grid.place(problem.errors)
            status = problem.status
        else:
            db.session.commit()
            flash(_saved_message(saved, created), "success")
            return redirect(url_for("tables.show", key=key))
    return render_template("rules/edit.html", table=table, grid=grid, base=base), status


def _saved_message(saved, created: bool) -> str:
    if not created:
        return _("Nothing changed: version %(number)d is identical.", number=saved.number)
    return _(
        "Saved as version %(number)d. Published processes keep the version they pinned until "
        "a new version of theirs is published.",
        number=saved.number,
    )


@bp.route("/<key>/adopt", methods=["POST"])
@permission_required("processes.manage")
def adopt(key: str):
    """A draft of the chosen process reading the newest version of the tables, then its what-if."""
    tables.get_global_table(key)
    process_key = request.form.get("process", "")
    draft = parameter_tables.adopt_global_tables(process_key, actor=current_user)
    db.session.commit()
    flash(_("Draft version %(number)d reads the newest parameter tables.", number=draft.number), "success")
    return redirect(url_for("processes.whatif", key=process_key, version=draft.number))
