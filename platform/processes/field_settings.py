"""A form field as the designer's form shows it: labels, help and placeholder in zh-CN and en,
required, read-only, limits, options, default, the group it is in, its place and a condition.

`settings_of(found, spec)` reads them from a field of a spec; `from_form(request.form)` from the
designer's page. Writing them into a spec is formflow.processes.field_editor's part.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from formflow.forms.texts import exact_text, localized
from formflow.processes.form_fields import CHOICES, Located, kind_of

FLAGS = ("required", "readonly")


@dataclass(frozen=True)
class FieldSettings:
    key: str = ""
    kind: str = "text"
    title_zh: str = ""
    title_en: str = ""
    help_zh: str = ""
    help_en: str = ""
    placeholder_zh: str = ""
    placeholder_en: str = ""
    required: bool = False
    readonly: bool = False
    minimum: str = ""  # numbers and money; rows of a repeating group
    maximum: str = ""
    min_length: str = ""  # text
    max_length: str = ""
    pattern: str = ""
    decimals: str = ""  # numbers: places after the point
    options: str = ""  # choices: a line each, value = 中文 | English
    default: str = ""
    group: str = ""  # the group it is in ("" = the form itself), as a slug: "contact"
    after: str = ""  # the field it follows ("" = at the end)
    when_field: str = ""  # shown only when this field …
    when_value: str = ""  # … has this value


#: the names of the designer's inputs, which are also the ends of the problems' pointers
FIELDS = tuple(item.name for item in fields(FieldSettings))


def from_form(form) -> FieldSettings:
    values = {name: (form.get(name) or "").strip() for name in FIELDS if name not in FLAGS}
    values["options"] = (form.get("options") or "").strip("\n")
    return FieldSettings(**values, **{flag: bool(form.get(flag)) for flag in FLAGS})


def settings_of(found: Located, group: str = "") -> FieldSettings:
    """The settings of the field `found` as the designer shows them (its condition aside)."""
    schema, ui = found.schema, found.ui
    kind = kind_of(schema, ui)
    title, help_text, placeholder = ui.get("ui:title"), ui.get("ui:help"), ui.get("ui:placeholder")
    source = schema.get("items") if kind == "multiselect" else schema
    lower, upper = ("minItems", "maxItems") if kind == "repeat" else ("minimum", "maximum")
    return FieldSettings(
        key=found.name,
        kind=kind,
        title_zh=localized(title, "zh-CN") or localized(schema.get("title"), "zh-CN"),
        title_en=exact_text(title, "en"),
        help_zh=exact_text(help_text, "zh-CN"),
        help_en=exact_text(help_text, "en"),
        placeholder_zh=exact_text(placeholder, "zh-CN"),
        placeholder_en=exact_text(placeholder, "en"),
        required=found.name in (found.parent.schema.get("required") or []),
        readonly=bool(ui.get("ui:readonly") or schema.get("readOnly")),
        minimum=_text(schema.get(lower, "")),  # an exclusive bound is kept as it is (JSON mode)
        maximum=_text(schema.get(upper, "")),
        min_length=_text(schema.get("minLength", "")),
        max_length=_text(schema.get("maxLength", "")),
        pattern=schema.get("pattern", "") if isinstance(schema.get("pattern"), str) else "",
        decimals=decimals_of(schema) if kind == "number" else "",
        options=_options_text(source if isinstance(source, dict) else {}, ui) if kind in CHOICES else "",
        default=_default_text(schema.get("default")),
        group=group,
    )


def _text(value: Any) -> str:
    if isinstance(value, bool) or value in ("", None):
        return ""
    if isinstance(value, float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def decimals_of(schema: dict) -> str:
    """The places after the point a number's schema allows, as the designer shows them ("" when
    its step is not a power of ten, or it has none)."""
    step = schema.get("multipleOf")
    if schema.get("type") == "integer":
        return "0"
    if isinstance(step, int | float) and not isinstance(step, bool) and 0 < step <= 1:
        exponent = Decimal(str(step)).normalize().as_tuple().exponent
        if isinstance(exponent, int) and Decimal(str(step)) == Decimal(1).scaleb(exponent):
            return str(-exponent)
    return ""


def _options_text(source: dict, ui: dict) -> str:
    alternatives = source.get("oneOf") or source.get("anyOf") or []
    values = [a.get("const") for a in alternatives if isinstance(a, dict) and "const" in a]
    titles = [a.get("title") for a in alternatives if isinstance(a, dict) and "const" in a]
    if not values and isinstance(source.get("enum"), list):
        values, titles = list(source["enum"]), [None] * len(source["enum"])
    names = ui.get("ui:enumNames") if isinstance(ui.get("ui:enumNames"), list) else []
    lines = []
    for index, value in enumerate(values):
        name = names[index] if index < len(names) else titles[index]
        zh = localized(name, "zh-CN") or str(value)
        en = exact_text(name, "en")
        lines.append(f"{value} = {zh}" + (f" | {en}" if en else ""))
    return "\n".join(lines)


def _default_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return _text(value)
