"""Admin pages for a process's rules: the list of the latest version's rules, adding or
editing one with the condition builder (no JSON) or the JSON editor, deleting one. Every
save is a new draft (processes.services.new_draft_from_edit, fully checked); problems show
next to the row, field or box they are about, with their JSON Pointer.

Works without JavaScript: "Add condition", "Remove" and "Edit as JSON" are submit buttons
that come back to the same page; static/js/condition-builder.js only smooths that."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Regexp

from formflow.auth.decorators import permission_required
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.forms.texts import localized
from formflow.jsonerrors import describe
from formflow.processes import rule_builder
from formflow.processes.form_rules import KIND_LABELS
from formflow.processes.rule_builder import Catalogue
from formflow.rules import builder
from formflow.rules.builder import Conditions

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3 takes (value, label) tuples
    SelectChoice = None

bp = Blueprint("process_rules", __name__, url_prefix="/admin/processes/<key>/rules")

RULE_ID = r"^[a-z0-9][a-z0-9_-]{0,79}$"


def choices(pairs) -> list:
    """(value, label) pairs as the choices WTForms wants (SelectChoice from 3.3 on)."""
    pairs = list(pairs)
    if SelectChoice is None:
        return pairs
    return [SelectChoice(value=value, label=label) for value, label in pairs]


CONDITION_KINDS = [
    ("visible", _l("Show the field when…")),
    ("required", _l("Require the field when…")),
    ("enable", _l("Let the field be edited when…")),
    ("validate", _l("The field is valid when…")),
]


class ConditionForm(Form):
    """One row: field · operator · value (or a table value to compare with)."""

    field = SelectField(_l("Condition field"), validate_choice=False)
    op = SelectField(
        _l("Comparison"), choices=choices((code, op.label) for code, op in builder.OPERATORS.items())
    )
    value = StringField(_l("Value"))
    threshold = SelectField(_l("Table value"), validate_choice=False)
    key = SelectField(_l("Looked up by"), validate_choice=False, default=builder.DEFAULT_LOOKUP_KEY)


class BuilderForm(FlaskForm):
    mode = HiddenField(default="builder")
    rule_id = StringField(
        _l("Rule id"),
        validators=[DataRequired(), Regexp(RULE_ID, message=_l("Lowercase letters, digits, - and _ only."))],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    kind = SelectField(_l("Kind of rule"), choices=choices(CONDITION_KINDS), default="visible")
    target = SelectField(_l("Form field"), validate_choice=False)
    combinator = RadioField(
        _l("Conditions"),
        choices=choices([("all", _l("all of these")), ("any", _l("any of these"))]),
        default="all",
    )
    rows = FieldList(FormField(ConditionForm), min_entries=1)
    message_zh = StringField(_l("Message (zh-CN)"))
    message_en = StringField(_l("Message (en)"))


class JsonRuleForm(FlaskForm):
    mode = HiddenField(default="json")
    text = TextAreaField(
        _l("Rule (JSON)"), validators=[DataRequired()], render_kw={"rows": 18, "spellcheck": "false"}
    )


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
        return _builder_page(key, spec, None, _preset_form(spec, request.args))
    return _posted(key, spec, None)


@bp.route("/<rule_id>/edit", methods=["GET", "POST"])
@permission_required("processes.manage")
def edit(key: str, rule_id: str):
    _version, spec = rule_builder.latest_spec(key)
    _index, rule = rule_builder.find_rule(spec, rule_id)
    if request.method == "POST":
        return _posted(key, spec, rule)
    conditions = _conditions(rule)
    if conditions is None or request.args.get("mode") == "json":
        return _json_page(key, spec, rule, JsonRuleForm(formdata=None, text=_rule_text(rule)))
    return _builder_page(key, spec, rule, _form_of_rule(rule, conditions, rule_builder.catalogue(spec)))


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
    _choices(form, found)
    if "add_row" in request.form:
        form.rows.append_entry({"key": builder.DEFAULT_LOOKUP_KEY})
        _choices(form, found)
        return _builder_page(key, spec, rule, form, found=found)
    if "remove_row" in request.form:
        return _builder_page(
            key, spec, rule, _without_row(form, request.form["remove_row"], found), found=found
        )
    if not form.validate_on_submit():
        return _builder_page(key, spec, rule, form, status=422, found=found)
    built, row_errors = _rule_of_form(form, found, rule)
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


def _rule_of_form(form: BuilderForm, found: Catalogue, original: dict | None) -> tuple[dict | None, dict]:
    """The rule the form describes, or None with the problems of each row."""
    rows, row_errors = [], {}
    for index, entry in enumerate(form.rows):
        try:
            rows.append(_row_of_entry(entry.form, found))
        except ValueError as error:
            row_errors.setdefault(index, []).append(str(error))
            entry.form.value.errors = [*entry.form.value.errors, str(error)]
    kind = form.kind.data
    if kind == "validate" and not (form.message_zh.data or "").strip():
        form.message_zh.errors = [*form.message_zh.errors, _("A validation rule needs its message.")]
    if kind == "validate" and not (form.message_en.data or "").strip():
        form.message_en.errors = [*form.message_en.errors, _("A validation rule needs its message.")]
    if row_errors or form.message_zh.errors or form.message_en.errors:
        return None, row_errors
    try:
        when = builder.rule_from_rows(rows, form.combinator.data or "all", list_fields=found.list_fields())
    except builder.BuilderError as error:
        return None, {0: [item["message"] for item in error.errors]}
    built = {"id": form.rule_id.data.strip(), "kind": kind, "field": form.target.data, "when": when}
    if kind == "validate":
        built["message"] = {"zh-CN": form.message_zh.data.strip(), "en": form.message_en.data.strip()}
    # what the builder does not edit stays as it was: title, description, message params
    for member in ("title", "description", *(("params",) if kind == "validate" else ())):
        if original and original.get(member):
            built[member] = original[member]
    return built, row_errors


def _row_of_entry(entry: ConditionForm, found: Catalogue) -> dict:
    op = builder.OPERATORS.get(entry.op.data)
    if op is None:
        raise ValueError(_("Choose a comparison."))
    row = {"field": entry.field.data, "op": op.code}
    if op.operand == "lookup":
        table, _sep, column = (entry.threshold.data or "").partition(":")
        if not table or not column:
            raise ValueError(_("Choose the table value to compare with."))
        return {**row, "table": table, "column": column, "key": entry.key.data or builder.DEFAULT_LOOKUP_KEY}
    if op.operand == "none":
        return row
    choice = found.fields.get(entry.field.data)
    if op.code == "contains" and choice is not None and not choice.options:
        choice = rule_builder.FieldChoice(choice.path, choice.pointer, choice.label, "string")
    return {**row, "value": rule_builder.parse_value(entry.value.data, choice, many=op.operand == "values")}


def _choices(form: BuilderForm, found: Catalogue) -> None:
    form.target.choices = choices((choice.pointer, choice.label) for choice in found.targets)
    fields = [(path, choice.label) for path, choice in found.fields.items()]
    for entry in form.rows:
        entry.form.field.choices = choices(fields)
        entry.form.threshold.choices = choices([("", "—"), *found.thresholds])
        entry.form.key.choices = choices(fields)


def _without_row(form: BuilderForm, position: str, found: Catalogue) -> BuilderForm:
    data = form.data
    rows = [row for index, row in enumerate(data["rows"]) if str(index) != position] or [{}]
    data["rows"] = rows
    data.pop("csrf_token", None)
    rebuilt = BuilderForm(formdata=None, data=data)
    _choices(rebuilt, found)
    return rebuilt


def _preset_form(spec: dict, args) -> BuilderForm:
    """A new rule: "show this field when" (default) or "tier threshold" (preset=tier)."""
    found = rule_builder.catalogue(spec)
    numbers = [c for c in found.targets if c.type in ("number", "integer") and c.path.startswith("data.")]
    data = {
        "kind": args.get("kind") if args.get("kind") in dict(CONDITION_KINDS) else "visible",
        "rows": [{}],
    }
    if args.get("preset") == "tier" and numbers:
        first = numbers[0]
        threshold = found.thresholds[0][0] if found.thresholds else ""
        data.update(
            kind="validate", target=first.pointer, rule_id=f"{first.path.split('.')[-1]}-within-tier-limit"
        )
        data["rows"] = [
            {
                "field": first.path,
                "op": "le_lookup",
                "threshold": threshold,
                "key": builder.DEFAULT_LOOKUP_KEY,
            }
        ]
    form = BuilderForm(formdata=None, data=data)
    _choices(form, found)
    return form


def _form_of_rule(rule: dict, conditions: Conditions, found: Catalogue) -> BuilderForm:
    rows = []
    for row in conditions.rows:
        threshold = f"{row['table']}:{row['column']}" if "table" in row else ""
        rows.append(
            {
                "field": row["field"],
                "op": row["op"],
                "value": rule_builder.value_text(row.get("value")),
                "threshold": threshold,
                "key": row.get("key", builder.DEFAULT_LOOKUP_KEY),
            }
        )
    message = rule.get("message") if isinstance(rule.get("message"), dict) else {}
    data = {
        "rule_id": rule.get("id"),
        "kind": rule.get("kind"),
        "target": rule.get("field"),
        "combinator": conditions.combinator,
        "rows": rows,
        "message_zh": message.get("zh-CN", ""),
        "message_en": message.get("en", ""),
    }
    form = BuilderForm(formdata=None, data=data)
    _choices(form, found)
    return form


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
    conditions = _conditions(built)
    if "to_builder" in request.form and conditions is not None:
        return _builder_page(key, spec, rule, _form_of_rule(built, conditions, rule_builder.catalogue(spec)))
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
        convertible = _conditions(json.loads(text)) is not None
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


def _conditions(rule: dict) -> Conditions | None:
    """Rows for the builder when the rule is a condition rows can express."""
    if not isinstance(rule, dict) or rule.get("kind") not in dict(CONDITION_KINDS) or "when" not in rule:
        return None
    return builder.rows_from_rule(rule["when"])


def _rule_text(rule: dict) -> str:
    return json.dumps(rule, ensure_ascii=False, indent=2)


def _summary(rule: dict, found: Catalogue) -> dict:
    conditions = _conditions(rule)
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
