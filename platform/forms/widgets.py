"""The widget registry: each `ui:widget` name, the JSON types it can edit and the WTForms
field that renders it. Unknown names are refused when a spec is saved (checks.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FileField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.widgets import (
    CheckboxInput,
    ColorInput,
    DateInput,
    DateTimeLocalInput,
    EmailInput,
    ListWidget,
    NumberInput,
    PasswordInput,
    RangeInput,
    TextInput,
    TimeInput,
    URLInput,
)

from formflow.forms.nodes import Node, Option

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3 takes (value, label) tuples
    SelectChoice = None

SCALARS = frozenset({"string", "number", "integer", "boolean"})
NUMBERS = frozenset({"number", "integer"})


@dataclass(frozen=True)
class FieldSpec:
    """What a WTForms field needs to know: hashable, so form classes can be cached."""

    pointer: str
    widget: str
    multiple: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    blank: bool = True  # offer an empty choice in a select


@dataclass(frozen=True)
class Widget:
    name: str
    types: frozenset[str]  # the JSON types this widget can edit
    make: Callable[[FieldSpec], UnboundField]
    choices: bool = False  # needs options (enum / oneOf const / boolean)


WIDGETS: dict[str, Widget] = {}

#: Other names for the same widgets (react-jsonschema-form spellings).
ALIASES = {"alt-date": "date", "alt-datetime": "datetime", "datetime-local": "datetime", "data-url": "file"}


def register(name: str, types: frozenset[str], *, choices: bool = False):
    def add(make: Callable[[FieldSpec], UnboundField]):
        WIDGETS[name] = Widget(name, types, make, choices)
        return make

    return add


def lookup(name: str) -> Widget | None:
    return WIDGETS.get(ALIASES.get(name, name))


def _text(widget) -> Callable[[FieldSpec], UnboundField]:
    return lambda spec: StringField(widget=widget)


register("text", SCALARS)(_text(TextInput()))
register("email", frozenset({"string"}))(_text(EmailInput()))
register("uri", frozenset({"string"}))(_text(URLInput()))
register("color", frozenset({"string"}))(_text(ColorInput()))
register("date", frozenset({"string"}))(_text(DateInput()))
register("datetime", frozenset({"string"}))(_text(DateTimeLocalInput()))
register("time", frozenset({"string"}))(_text(TimeInput()))
register("updown", NUMBERS)(_text(NumberInput()))
#: Money: a text box with a decimal keypad, so "1,234.50" can be typed and nothing rounds.
register("money", frozenset({"number"}))(_text(TextInput()))
register("range", NUMBERS)(_text(RangeInput()))


@register("textarea", frozenset({"string"}))
def _textarea(spec: FieldSpec) -> UnboundField:
    return TextAreaField()


@register("password", frozenset({"string"}))
def _password(spec: FieldSpec) -> UnboundField:
    return PasswordField(widget=PasswordInput(hide_value=False))


@register("hidden", SCALARS)
def _hidden(spec: FieldSpec) -> UnboundField:
    return HiddenField()


@register("checkbox", frozenset({"boolean"}))
def _checkbox(spec: FieldSpec) -> UnboundField:
    return BooleanField()


def _choices(pairs) -> list:
    """WTForms 3.3 deprecates (value, label) tuples (a DeprecationWarning, an error in the tests)."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value=value, label=label) for value, label in pairs]


@register("select", SCALARS | {"array"}, choices=True)
def _select(spec: FieldSpec) -> UnboundField:
    if spec.multiple:
        return SelectMultipleField(choices=_choices(spec.choices), validate_choice=False)
    blank = [("", "—")] if spec.blank else []
    return SelectField(choices=_choices(blank + list(spec.choices)), validate_choice=False)


@register("radio", SCALARS, choices=True)
def _radio(spec: FieldSpec) -> UnboundField:
    return RadioField(choices=_choices(spec.choices), validate_choice=False)


@register("checkboxes", frozenset({"array"}), choices=True)
def _checkboxes(spec: FieldSpec) -> UnboundField:
    return SelectMultipleField(
        choices=_choices(spec.choices),
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


@register("file", frozenset({"string"}))
def _file(spec: FieldSpec) -> UnboundField:
    return FileField()


_FORMAT_WIDGETS = {
    "date": "date",
    "date-time": "datetime",
    "time": "time",
    "email": "email",
    "idn-email": "email",
    "uri": "uri",
    "data-url": "file",
    "color": "color",
}


def default_widget(node: Node) -> str:
    if node.multiple:
        return "checkboxes"
    if node.options:
        return "select"
    if node.type == "boolean":
        return "checkbox"
    if node.type in NUMBERS:
        step = node.schema.get("multipleOf")
        return "money" if node.type == "number" and step is not None and str(step) == "0.01" else "updown"
    return _FORMAT_WIDGETS.get(node.schema.get("format", ""), "text")


def boolean_options(node: Node) -> list[Option]:
    """Yes/No for a boolean shown as radio buttons or a select (labels from ui:enumNames)."""
    from formflow.forms.texts import localized

    names = node.ui.get("ui:enumNames")
    labels = [localized(n) for n in names] if isinstance(names, list) and len(names) == 2 else None
    yes, no = labels or (str(_l("Yes")), str(_l("No")))
    return [Option("true", yes, True), Option("false", no, False)]
