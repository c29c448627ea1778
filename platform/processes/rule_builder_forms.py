"""The forms of the rule builder pages (condition rows, the JSON editor) and the way between
a builder form and a rule: the rule a posted form describes, the form that shows a rule."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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

from formflow.processes import rule_builder
from formflow.processes.rule_builder import Catalogue
from formflow.rules import builder
from formflow.rules.builder import Conditions

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3 takes (value, label) tuples
    SelectChoice = None

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


def rule_of_form(form: BuilderForm, found: Catalogue, original: dict | None) -> tuple[dict | None, dict]:
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


def set_choices(form: BuilderForm, found: Catalogue) -> None:
    form.target.choices = choices((choice.pointer, choice.label) for choice in found.targets)
    fields = [(path, choice.label) for path, choice in found.fields.items()]
    for entry in form.rows:
        entry.form.field.choices = choices(fields)
        entry.form.threshold.choices = choices([("", "—"), *found.thresholds])
        entry.form.key.choices = choices(fields)


def without_row(form: BuilderForm, position: str, found: Catalogue) -> BuilderForm:
    data = form.data
    rows = [row for index, row in enumerate(data["rows"]) if str(index) != position] or [{}]
    data["rows"] = rows
    data.pop("csrf_token", None)
    rebuilt = BuilderForm(formdata=None, data=data)
    set_choices(rebuilt, found)
    return rebuilt


def preset_form(spec: dict, args) -> BuilderForm:
    """A new rule: "show this field when" (default) or "tier threshold" (preset=tier)."""
    found = rule_builder.catalogue(spec)
    numbers = [c for c in found.targets if c.type in ("number", "integer") and c.path.startswith("data.")]
    data = {
        "kind": args.get("kind") if args.get("kind") in dict(CONDITION_KINDS) else "visible",
        "rows": [{}],
    }
    if args.get("target") in {c.pointer for c in found.targets}:  # from the form designer's field
        data["target"] = args.get("target")
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
    set_choices(form, found)
    return form


def form_of_rule(rule: dict, conditions: Conditions, found: Catalogue) -> BuilderForm:
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
    set_choices(form, found)
    return form


def conditions_of(rule: dict) -> Conditions | None:
    """Rows for the builder when the rule is a condition rows can express."""
    if not isinstance(rule, dict) or rule.get("kind") not in dict(CONDITION_KINDS) or "when" not in rule:
        return None
    return builder.rows_from_rule(rule["when"])
