"""`render(...)`: the tree as accessible HTML, errors next to their fields."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from formflow.forms.html import Writer
from formflow.forms.nodes import MISSING, Node
from formflow.forms.pointers import html_id, parent
from formflow.forms.schema_tree import Tree
from formflow.forms.values import input_value

#: Inputs that `readonly` does not stop; they are disabled and their value is posted hidden.
LOCKED_BY_DISABLING = frozenset({"select", "radio", "checkbox", "checkboxes", "range", "color", "file"})

#: tokens -> {token: file name}: what a file field says is attached. The forms engine knows
#: nothing of storage; whoever stores the uploads (formflow.cases.uploads) names them here.
_file_names: Callable[[Iterable[str]], dict[str, str]] | None = None


def name_files_with(function: Callable[[Iterable[str]], dict[str, str]] | None) -> None:
    """Register how file fields learn the name of the file a token stands for."""
    global _file_names
    _file_names = function


def render(
    schema: dict,
    ui_schema: dict | None = None,
    data: Any = None,
    errors: list[dict] | None = None,
    *,
    readonly: bool = False,
    selections: dict[str, int] | None = None,
    rules=None,
) -> Markup:
    """The form's fields as HTML. `data=None` is a new form (defaults filled in);
    `selections` are the alternatives a posted form had picked (`Parsed.selections`);
    `rules` a rule outcome (formflow.processes.form_rules.RuleOutcome): hidden fields, fields
    required or made read-only by rules, computed values shown as previews."""
    if readonly:
        from formflow.forms.display import display

        return Markup(render_template("forms/display.html", rows=display(schema, ui_schema, data)))
    tree = Tree(schema, ui_schema, fill_defaults=data is None, selections=selections)
    root = tree.build(MISSING if data is None else data)
    if rules is not None:
        apply_outcome(root, rules)
    return render_tree(root, errors or [])


def apply_outcome(root: Node, outcome) -> None:
    """Mark the tree with what the rules decided."""
    for node in root.walk():
        pointer = node.pointer
        if outcome.is_hidden(pointer):
            node.hidden = True
        if pointer in outcome.required:
            node.required = True
        if pointer in outcome.disabled:
            node.readonly = True
        if pointer in outcome.computed and node.kind == "field":
            node.value, node.computed, node.readonly = outcome.computed[pointer], True, True


def render_tree(root: Node, errors: list[dict]) -> Markup:
    placed, kept_inputs = place_errors(root, errors)
    values = {node.pointer: input_value(node) for node in root.walk() if node.kind == "field"}
    values.update(kept_inputs)  # show what the user typed, not an empty box
    writer = Writer(values, placed, lambda node: field_attributes(node, placed), LOCKED_BY_DISABLING)
    writer.file_names = _names_of_files(root, values)
    return writer.html(root, _summary(root, placed))


def _names_of_files(root: Node, values: dict[str, Any]) -> dict[str, str]:
    tokens = [
        values.get(node.pointer)
        for node in root.walk()
        if node.kind == "field" and node.widget == "file" and isinstance(values.get(node.pointer), str)
    ]
    tokens = [token for token in tokens if token]
    return _file_names(tokens) if tokens and _file_names is not None else {}


def place_errors(root: Node, errors: list[dict]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each message at the nearest node the form shows (a missing field's own input first)."""
    shown = {node.pointer for node in root.walk()}
    placed: dict[str, list[str]] = defaultdict(list)
    kept: dict[str, str] = {}
    for error in errors:
        target = error.get("field") if error.get("field") in shown else error.get("pointer", "")
        while target not in shown and target:
            target = parent(target)
        message = error["message"]
        if target and target == error.get("field"):
            # next to its own input the field needs no naming (its title is the label)
            message = _("This field is required.")
        if message not in placed[target]:
            placed[target].append(message)
        if "input" in error:
            kept[error["pointer"]] = error["input"]
    return dict(placed), kept


def _summary(root: Node, placed: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """(anchor id, field title, message) for the list of problems above the form."""
    titles = {node.pointer: node.title for node in root.walk()}
    return [
        (html_id(pointer), titles.get(pointer, ""), message)
        for pointer, messages in placed.items()
        for message in messages
    ]


def _number_text(value: Any) -> str:
    return format(Decimal(str(value)), "f")


def field_attributes(node: Node, placed: dict[str, list[str]]) -> dict[str, Any]:
    """HTML attributes of a field's input: accessibility, limits, hints."""
    ident = html_id(node.pointer)
    described = [f"{ident}-help"] if (node.help or node.description) else []
    attributes: dict[str, Any] = {}
    if node.pointer in placed:
        described.append(f"{ident}-error")
        attributes["aria-invalid"] = "true"
    if described:
        attributes["aria-describedby"] = " ".join(described)
    if node.required and node.widget not in ("checkbox", "hidden"):
        attributes["aria-required"] = "true"
    placeholder = node.ui_option("placeholder")
    if placeholder:
        from formflow.forms.texts import localized

        attributes["placeholder"] = localized(placeholder)
    if node.readonly:
        attributes["readonly"] = True
    if node.disabled:
        attributes["aria-disabled"] = "true"
        attributes["readonly"] = True
    if (node.readonly or node.disabled) and node.widget in LOCKED_BY_DISABLING:
        attributes.pop("readonly", None)  # has no effect on these; the value posts via hidden inputs
        attributes["disabled"] = True
    if node.ui_option("autofocus"):
        attributes["autofocus"] = True
    if node.drives_layout:
        attributes["data-ff-refresh"] = "1"
    attributes["data-ff-type"] = "array" if node.multiple else node.type  # for the live rules
    if node.computed:
        attributes["data-ff-computed"] = "1"
    schema = node.schema
    if node.widget == "money":
        attributes["inputmode"] = "decimal"
        attributes["autocomplete"] = "off"
    if node.widget in ("updown", "range"):
        step = schema.get("multipleOf")
        attributes["step"] = _number_text(step) if step else ("1" if node.type == "integer" else "any")
        attributes["inputmode"] = "numeric" if node.type == "integer" else "decimal"
        for keyword, attribute in (("minimum", "min"), ("maximum", "max")):
            if keyword in schema:
                attributes[attribute] = _number_text(schema[keyword])
    if node.widget == "textarea":
        attributes["rows"] = node.ui_option("rows", 4)
    if node.widget == "file":
        accept = node.ui_option("accept")
        if accept:
            attributes["accept"] = ",".join(accept) if isinstance(accept, list) else str(accept)
    return attributes
