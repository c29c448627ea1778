"""Adding a form field without JSON: its kind (text, long text, number, money, date, choice,
yes/no), labels and help in zh-CN and en, required, limits, the options of a choice, where it
goes, and a condition that shows it only when another field has a value (a `visible` rule).
The spec's checks decide; each problem is put on the field of this form it concerns.

    spec = with_field(spec, NewField(key="penalty", kind="money", maximum="5000", …), check)
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from formflow.errors import Invalid
from formflow.forms.pointers import join
from formflow.forms.texts import localized

KEY = re.compile(r"[a-z][a-z0-9_]{0,59}")
KINDS = ("text", "textarea", "number", "money", "date", "select", "checkbox")
FIELDS = (
    "key", "kind", "title_zh", "title_en", "help_zh", "help_en", "required", "minimum", "maximum",
    "max_length", "options", "after", "when_field", "when_value",
)  # fmt: skip


@dataclass(frozen=True)
class NewField:
    key: str = ""
    kind: str = "text"
    title_zh: str = ""
    title_en: str = ""
    help_zh: str = ""
    help_en: str = ""
    required: bool = False
    minimum: str = ""
    maximum: str = ""
    max_length: str = ""
    options: str = ""  # a line each: value = 中文 | English
    after: str = ""  # the field it follows ("" = at the end)
    when_field: str = ""  # shown only when this field …
    when_value: str = ""  # … has this value


def from_form(form) -> NewField:
    values = {name: (form.get(name) or "").strip() for name in FIELDS if name != "required"}
    return NewField(**values, required=bool(form.get("required")))


def top_fields(spec: dict) -> list[tuple[str, str]]:
    """(key, label) of the form's top-level fields, in form order."""
    form = spec.get("form") or {}
    properties = (form.get("schema") or {}).get("properties") or {}
    ui = form.get("uiSchema") or {}
    order = [name for name in ui.get("ui:order") or [] if name in properties]
    order += [name for name in properties if name not in order]
    return [(name, _label(name, properties[name], ui.get(name) or {})) for name in order]


def _label(name: str, schema: dict, ui: dict) -> str:
    return localized(ui.get("ui:title")) or localized(schema.get("title")) or name


def with_field(spec: dict, field: NewField, check) -> dict:
    """A copy of `spec` with the field added; Invalid with pointers /form/fields/NAME (NAME one
    of FIELDS) for what is wrong, the spec's own checks included."""
    at = "/form/fields"
    errors: list[dict] = []
    properties = ((spec.get("form") or {}).get("schema") or {}).get("properties") or {}
    if not KEY.fullmatch(field.key):
        message = _("Use 1 to 60 characters: a lowercase letter, then lowercase letters, digits or _.")
        errors.append({"pointer": join(at, "key"), "message": message})
    elif field.key in properties:
        errors.append({"pointer": join(at, "key"), "message": _("Another field already has this key.")})
    if field.kind not in KINDS:
        errors.append({"pointer": join(at, "kind"), "message": _("Choose the kind of field.")})
    if not field.title_zh:
        errors.append({"pointer": join(at, "title_zh"), "message": _("Give the field a Chinese label.")})
    schema = _schema(field, errors, at)
    options = _options(field, errors, at) if field.kind == "select" else []
    if field.when_field and field.when_field not in properties:
        errors.append({"pointer": join(at, "when_field"), "message": _("Choose a field of the form.")})
    edited = copy.deepcopy(spec)
    form = edited.setdefault("form", {})
    properties = form.setdefault("schema", {}).setdefault("properties", {})
    properties[field.key] = schema
    if options:
        schema["oneOf"] = [{"const": value, "title": names["zh-CN"]} for value, names in options]
    if field.required:
        form["schema"].setdefault("required", []).append(field.key)
    ui = form.setdefault("uiSchema", {})
    ui[field.key] = _ui(field, options)
    if isinstance(ui.get("ui:order"), list):
        order = ui["ui:order"]
        order.insert(order.index(field.after) + 1 if field.after in order else len(order), field.key)
    if field.when_field:
        edited.setdefault("rules", []).append(_visible_rule(field, properties.get(field.when_field) or {}))
    if errors:
        raise Invalid(errors)
    problems = check(edited)
    if problems:
        raise Invalid([_at_field(problem, field, len(edited.get("rules") or [])) for problem in problems])
    return edited


def _schema(field: NewField, errors: list[dict], at: str) -> dict:
    kind = field.kind
    schema: dict[str, Any] = {"title": field.title_zh}
    if kind in ("number", "money"):
        schema["type"] = "number"
        if kind == "money":
            schema["multipleOf"] = 0.01
        for name in ("minimum", "maximum"):
            text = getattr(field, name)
            if text:
                number = _number(text)
                if number is None:
                    errors.append({"pointer": join(at, name), "message": _("Not a number.")})
                else:
                    schema[name] = number
    elif kind == "checkbox":
        schema["type"] = "boolean"
    else:
        schema["type"] = "string"
        if kind == "date":
            schema["format"] = "date"
        if field.max_length:
            if field.max_length.isdigit() and int(field.max_length) > 0:
                schema["maxLength"] = int(field.max_length)
            else:
                errors.append({"pointer": join(at, "max_length"), "message": _("Not a whole number.")})
    return schema


def _number(text: str) -> int | float | None:
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _options(field: NewField, errors: list[dict], at: str) -> list[tuple[str, dict]]:
    options = []
    for line in field.options.splitlines():
        if not line.strip():
            continue
        value, _sep, labels = line.partition("=")
        zh, _bar, en = labels.partition("|")
        value, zh, en = value.strip(), zh.strip(), en.strip()
        if not value or not zh:
            message = _("Write each option as: value = 中文 | English")
            errors.append({"pointer": join(at, "options"), "message": message})
            return []
        options.append((value, {"zh-CN": zh, **({"en": en} if en else {})}))
    if not options:
        errors.append({"pointer": join(at, "options"), "message": _("A choice needs its options.")})
    return options


def _ui(field: NewField, options: list) -> dict:
    ui: dict[str, Any] = {
        "ui:title": {"zh-CN": field.title_zh, **({"en": field.title_en} if field.title_en else {})}
    }
    if field.help_zh or field.help_en:
        ui["ui:help"] = {
            "zh-CN": field.help_zh or field.help_en,
            **({"en": field.help_en} if field.help_en else {}),
        }
    if field.kind == "textarea":
        ui["ui:widget"] = "textarea"
    if options:
        ui["ui:enumNames"] = [names for _value, names in options]
    return ui


def _visible_rule(field: NewField, other: dict) -> dict:
    value: Any = field.when_value
    if other.get("type") == "boolean":
        value = field.when_value.lower() in ("true", "yes", "1", "是")
    elif other.get("type") in ("number", "integer"):
        value = _number(field.when_value) if _number(field.when_value) is not None else field.when_value
    return {
        "id": f"show-{field.key.replace('_', '-')}",
        "title": {"zh-CN": f"显示“{field.title_zh}”", "en": f"Show “{field.title_en or field.key}”"},
        "kind": "visible",
        "field": f"/{field.key}",
        "when": {"==": [{"var": f"data.{field.when_field}"}, value]},
    }


def _at_field(problem: dict, field: NewField, rules: int) -> dict:
    pointer = problem.get("pointer") or ""
    for prefix, name in (
        (f"/form/schema/properties/{field.key}/minimum", "minimum"),
        (f"/form/schema/properties/{field.key}/maximum", "maximum"),
        (f"/form/schema/properties/{field.key}/maxLength", "max_length"),
        (f"/form/schema/properties/{field.key}", "key"),
        (f"/form/uiSchema/{field.key}", "title_zh"),
        (f"/rules/{rules - 1}", "when_value"),
    ):
        if pointer.startswith(prefix) and (name != "when_value" or field.when_field):
            return {**problem, "pointer": join("/form/fields", name)}
    return problem
