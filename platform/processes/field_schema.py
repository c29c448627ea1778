"""A form field's schema and layout written from the form designer's settings: the type and
format of its kind, labels, help and placeholder per language, read-only, limits, options and
a default checked against the field itself. What the designer does not show is kept.

    schema, ui = new_schema("money"), {}
    write_field(schema, ui, settings, errors)   # errors: [{"pointer": "/form/fields/NAME", …}]
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from formflow.forms import validate
from formflow.forms.pointers import join
from formflow.processes.editor_problems import whole_number
from formflow.processes.field_settings import FieldSettings, decimals_of
from formflow.processes.form_fields import CHOICES

AT = "/form/fields"


def problem(name: str, message: str) -> dict:
    """A problem at the designer's input `name`."""
    return {"pointer": join(AT, name), "message": message}


def new_schema(kind: str) -> dict[str, Any]:
    if kind in ("number", "money"):
        return {"type": "number", **({"multipleOf": 0.01} if kind == "money" else {})}
    if kind == "checkbox":
        return {"type": "boolean"}
    if kind == "group":
        return {"type": "object", "properties": {}}
    if kind == "repeat":
        return {"type": "array", "items": {"type": "object", "properties": {}}}
    if kind == "multiselect":
        return {"type": "array", "uniqueItems": True, "items": {"type": "string"}}
    schema: dict[str, Any] = {"type": "string"}
    if kind in ("date", "datetime"):
        schema["format"] = "date" if kind == "date" else "date-time"
    return schema


_WIDGETS = {"textarea": "textarea", "radio": "radio", "multiselect": "checkboxes", "file": "file"}


def write_field(schema: dict, ui: dict, settings: FieldSettings, errors: list[dict]) -> None:
    """The designer's settings into the field's schema and layout (the others kept)."""
    kind = settings.kind
    if not settings.title_zh:
        errors.append(problem("title_zh", _("Give the field a Chinese label.")))
    plain_title = "ui:title" not in ui and not settings.title_en and schema.get("title") == settings.title_zh
    schema["title"] = settings.title_zh
    for name, zh, en in (
        ("ui:title", settings.title_zh, settings.title_en),
        ("ui:help", settings.help_zh, settings.help_en),
        ("ui:placeholder", settings.placeholder_zh, settings.placeholder_en),
    ):
        if not (name == "ui:title" and plain_title):  # a title only in the schema stays only there
            _texts(ui, name, zh, en)
    if kind in _WIDGETS:
        ui.setdefault("ui:widget", _WIDGETS[kind])  # a several-choices list shown as a select stays so
    _flag(ui, "ui:readonly", settings.readonly)
    schema.pop("readOnly", None)
    if kind in ("number", "money"):
        _number_limits(schema, settings, errors)
    elif kind == "repeat":
        _whole(schema, "minItems", settings.minimum, "minimum", errors)
        _whole(schema, "maxItems", settings.maximum, "maximum", errors)
    elif kind in ("text", "textarea"):
        _whole(schema, "minLength", settings.min_length, "min_length", errors)
        _whole(schema, "maxLength", settings.max_length, "max_length", errors)
        _keep(schema, "pattern", settings.pattern)
    if kind in CHOICES:
        options = _options(settings.options, errors)
        target = schema.setdefault("items", {"type": "string"}) if kind == "multiselect" else schema
        target.pop("enum", None)
        target["oneOf"] = [{"const": value, "title": names["zh-CN"]} for value, names in options]
        ui["ui:enumNames"] = [names for _value, names in options]
    _default(schema, settings, errors)


def _texts(ui: dict, name: str, zh: str, en: str) -> None:
    if zh or en:
        ui[name] = {"zh-CN": zh or en, **({"en": en} if en else {})}
    else:
        ui.pop(name, None)


def _flag(ui: dict, name: str, on: bool) -> None:
    if on:
        ui[name] = True
    else:
        ui.pop(name, None)


def _keep(schema: dict, name: str, value: Any) -> None:
    if value in ("", None):
        schema.pop(name, None)
    else:
        schema[name] = value


def number(text: str) -> int | float | None:
    """A typed number as JSON holds it; None for what is not one, or is beyond any limit a form
    needs (15 digits before the point, 6 after): `1e5000` is no limit but a typo."""
    plain = text.replace(",", "").strip()
    if len(plain) > 30:
        return None
    try:
        number = Decimal(plain)
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= 10**15 or (number and number.as_tuple().exponent < -6):
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _number_limits(schema: dict, settings: FieldSettings, errors: list[dict]) -> None:
    for name in ("minimum", "maximum"):
        text = getattr(settings, name)
        value = number(text) if text else None
        if text and value is None:
            errors.append(problem(name, _("Not a number.")))
        _keep(schema, name, value)
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
        errors.append(problem("maximum", _("The maximum is below the minimum.")))
    if settings.kind != "number":
        return
    shown = decimals_of(schema)  # what the page showed: only that is the designer's to change
    if settings.decimals:
        places = whole_number(settings.decimals)
        if places is None or places > 6:
            errors.append(problem("decimals", _("Give a whole number from 0 to 6.")))
        elif places == 0:
            schema["type"] = "integer"
            step = schema.get("multipleOf")
            if not (isinstance(step, int) and step >= 1):  # a step of 100 stays; 0.5 cannot
                schema.pop("multipleOf", None)
        elif str(places) != shown:
            schema["type"] = "number"
            schema["multipleOf"] = float(Decimal(1).scaleb(-places))
    elif shown:  # the admin cleared the places shown: any number
        schema["type"] = "number"
        schema.pop("multipleOf", None)


def _whole(schema: dict, name: str, text: str, field: str, errors: list[dict]) -> None:
    if text and whole_number(text) is None:
        errors.append(problem(field, _("Not a whole number.")))
        return
    _keep(schema, name, int(text) if text else None)


def _options(text: str, errors: list[dict]) -> list[tuple[str, dict]]:
    options = []
    for line in text.splitlines():
        if not line.strip():
            continue
        value, _sep, labels = line.partition("=")
        zh, _bar, en = labels.partition("|")
        value, zh, en = value.strip(), zh.strip(), en.strip()
        if not value or not zh:
            errors.append(problem("options", _("Write each option as: value = 中文 | English")))
            return []
        options.append((value, {"zh-CN": zh, **({"en": en} if en else {})}))
    if not options:
        errors.append(problem("options", _("A choice needs its options.")))
    elif len({value for value, _names in options}) < len(options):
        errors.append(problem("options", _("Two options have the same value.")))
    return options


def _default(schema: dict, settings: FieldSettings, errors: list[dict]) -> None:
    """The default as the field's own type; a choice's must be one of its options."""
    text, kind = settings.default, settings.kind
    if kind in ("file", "group", "repeat"):
        return  # a default the designer does not show (a repeating group's first rows) stays
    if not text:
        schema.pop("default", None)
        return
    value: Any = text
    if kind in ("number", "money"):
        value = number(text)
        if value is None:
            errors.append(problem("default", _("Not a number.")))
            return
    elif kind == "checkbox":
        if text.lower() not in ("true", "yes", "1", "是", "false", "no", "0", "否"):
            errors.append(problem("default", _("Write true or false.")))
            return
        value = text.lower() in ("true", "yes", "1", "是")
    elif kind in CHOICES:
        allowed = [line.partition("=")[0].strip() for line in settings.options.splitlines() if line.strip()]
        value = [part.strip() for part in text.split(",") if part.strip()] if kind == "multiselect" else text
        if any(item not in allowed for item in (value if isinstance(value, list) else [value])):
            errors.append(problem("default", _("The default must be one of the options' values.")))
            return
    schema["default"] = value
    wrong = validate({key: item for key, item in schema.items() if key != "default"}, value)
    if wrong:
        errors.append(problem("default", wrong[0]["message"]))
