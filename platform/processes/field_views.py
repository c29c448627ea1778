"""The form designer's pages on the processes blueprint: the form's outline with a palette and a
preview, a field's page (add or change), and removing, moving and reordering fields. The logic
is in formflow.processes.field_editor; every change is a draft revision."""

from __future__ import annotations

import copy

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from formflow.auth.decorators import permission_required
from formflow.auth.permissions import ROLES
from formflow.errors import Invalid
from formflow.forms.texts import localized
from formflow.processes import field_editor as editor
from formflow.processes import form_fields, form_preview, services
from formflow.processes.editor_problems import by_field
from formflow.processes.editor_saving import save_edit
from formflow.processes.field_settings import FIELDS, FieldSettings, from_form, settings_of
from formflow.processes.forms import DraftEditorForm
from formflow.processes.views import bp


@bp.route("/<key>/form")
@permission_required("processes.manage")
def form_designer(key: str):
    latest = services.latest_version(key)
    form = DraftEditorForm()
    form.base.data = latest.sha256
    return _designer(latest, form)


@bp.route("/<key>/fields/new", methods=["GET", "POST"])
@permission_required("processes.manage")
def new_field(key: str):
    latest = services.latest_version(key)
    if request.method == "GET":
        kind = request.args.get("kind", "text")
        settings = FieldSettings(
            kind=kind if kind in editor.KINDS else "text", group=request.args.get("group", "")
        )
        return _field_page(latest, _opened(latest), settings, None)
    return _field_saved(
        latest, None, lambda spec, settings: editor.with_field(spec, settings, services.check_spec)
    )


@bp.route("/<key>/fields/<path:field>/edit", methods=["GET", "POST"])
@permission_required("processes.manage")
def edit_field(key: str, field: str):
    latest = services.latest_version(key)
    path = form_fields.path_of(field)
    found = form_fields.locate(_form_copy(latest.spec), path)
    if found is None:
        flash(_("The form has no field %(key)s.", key=field), "error")
        return redirect(url_for("processes.form_designer", key=key))
    if request.method == "GET":
        settings = settings_of(found, "/".join(path[:-1]))
        settings = FieldSettings(**{**settings.__dict__, **_condition_of(latest.spec, found)})
        return _field_page(latest, _opened(latest), settings, path)
    return _field_saved(
        latest,
        path,
        lambda spec, settings: editor.with_field_changed(spec, path, settings, services.check_spec),
    )


@bp.route("/<key>/fields/<path:field>/remove", methods=["POST"])
@permission_required("processes.manage")
def remove_field(key: str, field: str):
    path = form_fields.path_of(field)
    return _outline_change(
        key,
        field,
        lambda spec: editor.without_field(spec, path, services.check_spec),
        _("The field is removed in draft version %(number)d."),
    )


@bp.route("/<key>/fields/<path:field>/move", methods=["POST"])
@permission_required("processes.manage")
def move_field(key: str, field: str):
    step = -1 if request.form.get("direction") == "up" else 1
    path = form_fields.path_of(field)
    return _outline_change(
        key,
        field,
        lambda spec: editor.moved(spec, path, step),
        _("The field is moved in draft version %(number)d."),
        focus=f"move-{step}-{field}",
    )


@bp.route("/<key>/form/order", methods=["POST"])
@permission_required("processes.manage")
def order_fields(key: str):
    """The order a drag and drop left a group's fields in (SortableJS posts this form)."""
    group = form_fields.path_of(request.form.get("group", ""))
    names = [name for name in request.form.get("order", "").split(",") if name]
    moved = form_fields.path_of(request.form.get("moved", ""))
    return _outline_change(
        key,
        "/".join(moved),
        lambda spec: editor.reordered(spec, group, names, services.check_spec, moved),
        _("The fields are reordered in draft version %(number)d."),
    )


# --- saving -------------------------------------------------------------------------------------


def _opened(latest) -> DraftEditorForm:
    form = DraftEditorForm()
    form.base.data = latest.sha256
    return form


def _field_saved(latest, path, change):
    form = DraftEditorForm()
    settings = from_form(request.form)
    if not form.validate_on_submit():
        reload = [{"pointer": "", "message": _("Reload the page.")}]
        return _field_page(latest, form, settings, path, reload, 400)

    def page(problems: list[dict], status: int):
        return _field_page(latest, form, settings, path, problems, status)

    if request.form.get("command") == "preview":
        try:
            return _field_page(latest, form, settings, path, preview_spec=change(latest.spec, settings))
        except Invalid as invalid:
            return page(invalid.errors, 422)

    def saved(number: int):
        message = _("The field is saved in draft version %(number)d: publish it to give new cases the form.",
                    number=number)  # fmt: skip
        flash(message, "success")
        slug = "/".join([*form_fields.path_of(settings.group), path[-1] if path else settings.key])
        anchor = f"field-{slug}"
        return redirect(
            url_for("processes.form_designer", key=latest.process.key, focus=f"edit-{slug}", _anchor=anchor)
        )

    return save_edit(
        latest.process.key, lambda: change(latest.spec, settings), source="form", base=form.base.data,
        page=page, saved=saved,
    )  # fmt: skip


def _outline_change(key: str, field: str, change, done: str, focus: str = ""):
    latest = services.latest_version(key)
    form = DraftEditorForm()
    if not form.validate_on_submit():
        return _designer(latest, form, [{"pointer": "", "message": _("Reload the page.")}], 400)

    def page(problems: list[dict], status: int):
        # a problem of the field goes on its row; with no one field (a reorder), above the list
        row = f"/form/fields/{field}" if field else ""
        placed = [{**p, "pointer": row} if p["pointer"].startswith("/form/fields/") else p for p in problems]
        return _designer(latest, form, placed, status)

    def saved(number: int):
        flash(done % {"number": number}, "success")
        anchor = f"field-{field}" if field else None
        return redirect(url_for("processes.form_designer", key=key, focus=focus or None, _anchor=anchor))

    return save_edit(
        key, lambda: change(latest.spec), source="form", base=form.base.data, page=page, saved=saved
    )


# --- pages --------------------------------------------------------------------------------------


def _designer(latest, form, problems=(), status: int = 200):
    spec = latest.spec
    at_rows: dict[str, list[str]] = {}
    rest = []
    rows = set(_slugs(form_fields.outline(spec)))
    for problem in problems:
        pointer = problem.get("pointer") or ""
        if pointer.startswith("/form/fields/") and pointer.removeprefix("/form/fields/") in rows:
            at_rows.setdefault(pointer.removeprefix("/form/fields/"), []).append(problem["message"])
        else:
            rest.append(problem)
    choice = form_preview.choice_from(request.args, spec, list(ROLES))
    page = render_template(
        "processes/form_designer.html",
        version=latest,
        process=latest.process,
        form=form,
        outline=form_fields.outline(spec),
        kinds=editor.KINDS,
        at_rows=at_rows,
        problems=rest,
        preview=form_preview.preview(spec, choice),
        choice=choice,
        preview_languages=form_preview.LANGUAGES,
        preview_roles=ROLES,
        states=form_preview.states(spec),
        focus=request.args.get("focus", ""),
    )
    return page, status


def _field_page(
    latest, form, settings: FieldSettings, path, problems=(), status: int = 200, preview_spec=None
):
    at_fields, rest = by_field(problems, "/form/fields/", FIELDS)
    spec = preview_spec or latest.spec
    found = form_fields.locate(_form_copy(latest.spec), path) if path else None
    pointer = found.pointer if found is not None else ""
    choice = form_preview.choice_from(request.form or request.args, spec, list(ROLES))
    page = render_template(
        "processes/field_edit.html",
        version=latest,
        process=latest.process,
        form=form,
        field=settings,
        path="/".join(path) if path else "",
        kinds=editor.KINDS,
        siblings=_siblings(latest.spec, settings, path),
        condition_fields=_condition_fields(latest.spec, path),
        groups=[
            (slug, label)
            for slug, label in form_fields.groups(latest.spec)
            if not path or slug != "/".join(path)
        ],
        rules=_rules_of(latest.spec, pointer),
        pointer=pointer,
        at_fields=at_fields,
        problems=rest,
        preview=form_preview.preview(spec, choice) if preview_spec is not None or not path else None,
        choice=choice,
    )
    return page, status


def _siblings(spec: dict, settings: FieldSettings, path) -> list[tuple[str, str]]:
    """(key, label) of the fields of the group the field is (or goes) in, itself aside."""
    container = form_fields.container_at(_form_copy(spec), form_fields.path_of(settings.group))
    if container is None:
        return []
    own = path[-1] if path else None
    items = [form_fields.locate_in(container, name) for name in container.names() if name != own]
    return [(item.name, form_fields.label_of(item.name, item.schema, item.ui)) for item in items if item]


def _condition_fields(spec: dict, path) -> list[tuple[str, str]]:
    """(slug, label) of the fields a "shown only when" may name: any not in a repeating group."""
    found: list[tuple[str, str]] = []

    def walk(items, prefix):
        for item in items:
            if item.kind == "repeat" or (path and tuple(item.path) == tuple(path)):
                continue
            if item.kind == "group":
                walk(item.children, prefix + item.label + " › ")
            else:
                found.append((item.slug, prefix + item.label))

    walk(form_fields.outline(spec), "")
    return found


def _condition_of(spec: dict, found) -> dict:
    """The designer's own "shown only when" rule of the field, as its two inputs (none when the
    field has no such rule, or one the designer cannot show)."""
    _rule, readable = editor.own_condition(spec, found)
    if readable is None:
        return {}
    slug, value = readable
    return {
        "when_field": slug,
        "when_value": "true" if value is True else "false" if value is False else str(value),
    }


def _rules_of(spec: dict, pointer: str) -> list[tuple[str, str]]:
    """(id, title) of the rules that decide about the field at `pointer`, for the rule builder."""
    if not pointer:
        return []
    return [
        (rule.get("id"), localized(rule.get("title")) or rule.get("id"))
        for rule in spec.get("rules") or []
        if isinstance(rule, dict) and rule.get("field") == pointer and rule.get("id")
    ]


def _form_copy(spec: dict) -> dict:
    """A copy of the spec's form to locate fields in (locating fills missing layout in)."""
    return copy.deepcopy(spec.get("form") or {})


def _slugs(items) -> list[str]:
    """The slug of every field of the outline, groups' fields too."""
    return [slug for item in items for slug in (item.slug, *_slugs(item.children))]
