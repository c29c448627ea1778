"""Admin pages for a process's rules: the list of the latest version's rules, adding or
editing one with the condition builder (no JSON) or the JSON editor, deleting one. Every
save is a new draft (processes.services.new_draft_from_edit, fully checked); problems show
next to the row, field or box they are about, with their JSON Pointer.

Works without JavaScript: "Add condition", "Remove" and "Edit as JSON" are submit buttons
that come back to the same page; static/js/condition-builder.js only smooths that. The
forms and the way between a form and a rule are in rule_builder_forms.py."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from formflow.auth.decorators import permission_required
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.forms.texts import localized
from formflow.jsonerrors import describe
from formflow.processes import rule_builder
from formflow.processes.form_rules import KIND_LABELS
from formflow.processes.rule_builder import Catalogue
from formflow.processes.rule_builder_forms import (
    CONDITION_KINDS,
    BuilderForm,
    JsonRuleForm,
    conditions_of,
    form_of_rule,
    preset_form,
    rule_of_form,
    set_choices,
    without_row,
)
from formflow.rules import builder

bp = Blueprint("process_rules", __name__, url_prefix="/admin/processes/<key>/rules")


# --- pages -------------------------------------------------------------------------------------


@bp.route("/")
@permission_required("processes.read")
def index(key: str):
    version, spec = rule_builder.latest_spec(key)
    found = rule_builder.catalogue(spec)
    rows = [_summary(rule, found) for rule in spec.get("rules") or [] if isinstance(rule, dict)]
    return render_template(
        "rules/process_rules.html",
        version=version,
        rules=rows,
        key=key,
        process_name=localized(spec.get("name")),
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required("processes.manage")
def new(key: str):
    _version, spec = rule_builder.latest_spec(key)
    if request.method == "GET":
        if request.args.get("mode") == "json":
            return _json_page(
                key, spec, None, JsonRuleForm(formdata=None, text=_rule_text(_json_template(spec)))
            )
        return _builder_page(key, spec, None, preset_form(spec, request.args))
    return _posted(key, spec, None)


@bp.route("/<rule_id>/edit", methods=["GET", "POST"])
@permission_required("processes.manage")
def edit(key: str, rule_id: str):
    _version, spec = rule_builder.latest_spec(key)
    _index, rule = rule_builder.find_rule(spec, rule_id)
    if request.method == "POST":
        return _posted(key, spec, rule)
    conditions = conditions_of(rule)
    if conditions is None or request.args.get("mode") == "json":
        return _json_page(key, spec, rule, JsonRuleForm(formdata=None, text=_rule_text(rule)))
    return _builder_page(key, spec, rule, form_of_rule(rule, conditions, rule_builder.catalogue(spec)))


@bp.route("/<rule_id>/delete", methods=["POST"])
@permission_required("processes.manage")
def delete(key: str, rule_id: str):
    form = FlaskForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
        return redirect(url_for("process_rules.index", key=key))
    result = rule_builder.delete_rule(key, rule_id, actor=current_user)
    db.session.commit()
    flash(
        _("Rule %(id)s deleted: draft version %(number)d.", id=rule_id, number=result.version.number),
        "success",
    )
    return redirect(url_for("process_rules.index", key=key))


# --- the builder --------------------------------------------------------------------------------


def _posted(key: str, spec: dict, rule: dict | None):
    """A post of either editor: a step (add/remove a row, switch editor) or a save."""
    if request.form.get("mode") == "json":
        return _json_posted(key, spec, rule)
    found = rule_builder.catalogue(spec)
    form = BuilderForm()
    set_choices(form, found)
    if "add_row" in request.form:
        form.rows.append_entry({"key": builder.DEFAULT_LOOKUP_KEY})
        set_choices(form, found)
        return _builder_page(key, spec, rule, form, found=found)
    if "remove_row" in request.form:
        return _builder_page(
            key, spec, rule, without_row(form, request.form["remove_row"], found), found=found
        )
    if not form.validate_on_submit():
        return _builder_page(key, spec, rule, form, status=422, found=found)
    built, row_errors = rule_of_form(form, found, rule)
    if "to_json" in request.form and built is not None:
        return _json_page(key, spec, rule, JsonRuleForm(formdata=None, text=_rule_text(built)))
    if built is None:
        return _builder_page(key, spec, rule, form, row_errors=row_errors, status=422, found=found)
    return _save(key, spec, rule, built, lambda errors: _builder_errors(key, spec, rule, form, found, errors))


def _save(key: str, spec: dict, rule: dict | None, built: dict, on_errors):
    try:
        saved = rule_builder.save_rule(key, built, replacing=rule["id"] if rule else None, actor=current_user)
    except Invalid as invalid:
        own, rest = rule_builder.errors_of_rule(invalid.errors, _index_after_save(spec, rule))
        return on_errors((own, rest))
    db.session.commit()
    number = saved.result.version.number
    flash(_("Rule %(id)s saved: draft version %(number)d.", id=built.get("id"), number=number), "success")
    return redirect(url_for("process_rules.index", key=key))


def _index_after_save(spec: dict, rule: dict | None) -> int:
    if rule is None:
        return len(spec.get("rules") or [])
    return rule_builder.find_rule(spec, rule["id"])[0]


def _builder_errors(key, spec, rule, form: BuilderForm, found: Catalogue, errors):
    """Errors of a save placed where they belong: rows, id, field, message; the rest above."""
    own, rest = errors
    row_errors: dict[int, list[str]] = {}
    general = list(rest)
    places = {"/id": form.rule_id, "/kind": form.kind, "/field": form.target, "/message": form.message_en}
    for error in own:
        pointer = error["pointer"]
        target = next(
            (f for prefix, f in places.items() if pointer == prefix or pointer.startswith(prefix + "/")), None
        )
        row = rule_builder.row_of_error(pointer, len(form.rows))
        if target is not None:
            target.errors = [*target.errors, error["message"]]
        elif row is not None:
            row_errors.setdefault(row, []).append(error["message"])
        else:
            general.append(error)
    return _builder_page(
        key, spec, rule, form, row_errors=row_errors, errors=general, status=422, found=found
    )


def _builder_page(key, spec, rule, form, *, row_errors=None, errors=None, status=200, found=None):
    found = found or rule_builder.catalogue(spec)
    page = render_template(
        "rules/process_rule_edit.html",
        key=key,
        process_name=localized(spec.get("name")) or key,
        rule=rule,
        form=form,
        editor="builder",
        catalogue=found,
        row_errors=row_errors or {},
        errors=errors or [],
    )
    return page, status


# --- the JSON editor -------------------------------------------------------------------------------


def _json_posted(key: str, spec: dict, rule: dict | None):
    form = JsonRuleForm()
    if not form.validate_on_submit():
        return _json_page(key, spec, rule, form, status=422)
    try:
        built = json.loads(form.text.data)
    except ValueError as error:
        message = _("This is not valid JSON: %(error)s", error=describe(error))
        return _json_page(key, spec, rule, form, errors=[{"pointer": "", "message": message}], status=422)
    if not isinstance(built, dict):
        message = _("A rule is a JSON object with id, kind, field and when (or value).")
        return _json_page(key, spec, rule, form, errors=[{"pointer": "", "message": message}], status=422)
    conditions = conditions_of(built)
    if "to_builder" in request.form and conditions is not None:
        return _builder_page(key, spec, rule, form_of_rule(built, conditions, rule_builder.catalogue(spec)))
    return _save(
        key,
        spec,
        rule,
        built,
        lambda errors: _json_page(key, spec, rule, form, errors=[*errors[0], *errors[1]], status=422),
    )


def _json_page(key, spec, rule, form, *, errors=None, status=200):
    text = form.text.data or ""
    try:
        convertible = conditions_of(json.loads(text)) is not None
    except ValueError:
        convertible = False
    page = render_template(
        "rules/process_rule_edit.html",
        key=key,
        process_name=localized(spec.get("name")) or key,
        rule=rule,
        form=form,
        editor="json",
        convertible=convertible,
        errors=errors or [],
    )
    return page, status


def _json_template(spec: dict) -> dict:
    found = rule_builder.catalogue(spec)
    target = found.targets[0].pointer if found.targets else "/field"
    read = next((path for path in found.fields if path.startswith("data.")), "data.field")
    return {"id": "new-rule", "kind": "visible", "field": target, "when": {"!!": [{"var": read}]}}


# --- helpers ------------------------------------------------------------------------------------------


def _rule_text(rule: dict) -> str:
    return json.dumps(rule, ensure_ascii=False, indent=2)


def _summary(rule: dict, found: Catalogue) -> dict:
    conditions = conditions_of(rule)
    target = next(
        (choice.label for choice in found.targets if choice.pointer == rule.get("field")), rule.get("field")
    )
    return {
        "rule": rule,
        "kind": dict(CONDITION_KINDS).get(rule.get("kind"))
        or KIND_LABELS.get(rule.get("kind"), rule.get("kind")),
        "title": localized(rule.get("title")),
        "target": target,
        "condition": rule_builder.describe(conditions, found) if conditions else None,
    }
