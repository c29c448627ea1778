"""The form designer's changes to a spec, without JSON: add a field of any palette kind (into the
form, a group or a repeating group), change one, remove one, move one up or down or into
another group, put a group's fields in a new order. The spec's own checks decide; each problem
is put on the designer's input it concerns (/form/fields/NAME, NAME one of FIELDS).

    spec = with_field(spec, FieldSettings(key="penalty", kind="money", maximum="5000", …), check)
    spec = without_field(spec, ("penalty",), check)   # refused while a rule still reads it
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask_babel import gettext as _

from formflow.errors import Invalid
from formflow.forms.pointers import join
from formflow.processes import form_fields as where
from formflow.processes.field_schema import AT, new_schema, number, problem, write_field
from formflow.processes.field_settings import FIELDS, FieldSettings
from formflow.processes.form_fields import KINDS, Container, Located
from formflow.processes.spec_places import place_of

__all__ = [
    "FIELDS",
    "KINDS",
    "moved",
    "reordered",
    "rule_id",
    "with_field",
    "with_field_changed",
    "without_field",
]

KEY = re.compile(r"[a-z][a-z0-9_]{0,59}")


def with_field(spec: dict, settings: FieldSettings, check) -> dict:
    """A copy of `spec` with the field added; Invalid naming the designer's inputs."""
    edited = copy.deepcopy(spec)
    form = edited.setdefault("form", {})
    errors: list[dict] = []
    container = where.container_at(form, where.path_of(settings.group))
    if container is None:
        errors.append(problem("group", _("Choose a group of the form.")))
        container = where.root(form)
    if not KEY.fullmatch(settings.key):
        errors.append(
            problem(
                "key", _("Use 1 to 60 characters: a lowercase letter, then lowercase letters, digits or _.")
            )
        )
    elif settings.key in container.schema["properties"]:
        errors.append(problem("key", _("Another field already has this key.")))
    if settings.kind not in KINDS:
        errors.append(problem("kind", _("Choose the kind of field.")))
    schema: dict[str, Any] = new_schema(settings.kind)
    ui: dict[str, Any] = {}
    write_field(schema, ui, settings, errors)
    container.schema["properties"][settings.key] = schema
    container.ui[settings.key] = ui
    _place(container, settings.key, settings.after)
    found = where.locate_in(container, settings.key)
    _set_required(container, settings.key, settings.required)
    _set_condition(edited, found, settings, errors, form)
    return tidy(spec, _checked(edited, found, errors, check))


def with_field_changed(spec: dict, path: tuple[str, ...], settings: FieldSettings, check) -> dict:
    """A copy of `spec` with the field at `path` changed (its key and kind stay; what the
    designer does not show, such as an upload's accepted types, is kept)."""
    edited = copy.deepcopy(spec)
    form = edited.setdefault("form", {})
    found = where.locate(form, path)
    if found is None:
        raise Invalid([problem("key", _("The form has no field %(key)s.", key="/".join(path)))])
    errors: list[dict] = []
    kind = where.kind_of(found.schema, found.ui)
    write_field(
        found.schema,
        found.ui,
        FieldSettings(**{**settings.__dict__, "key": found.name, "kind": kind}),
        errors,
    )
    _set_required(found.parent, found.name, settings.required)
    if settings.group != "/".join(path[:-1]):
        own, readable = own_condition(edited, found)
        if own is not None and readable is not None:
            edited["rules"].remove(own)  # written again below, for the field where it goes
        found = _moved_to(form, found, settings.group, errors)
    _place(found.parent, found.name, settings.after, moving=True)
    _set_condition(edited, found, settings, errors, form)
    return tidy(spec, _checked(edited, found, errors, check))


def without_field(spec: dict, path: tuple[str, ...], check) -> dict:
    """A copy of `spec` without the field; Invalid while anything still refers to it, each
    user named (a rule by its title, a workflow state, a test)."""
    edited = copy.deepcopy(spec)
    form = edited.setdefault("form", {})
    found = where.locate(form, path)
    if found is None:
        raise Invalid([problem("key", _("The form has no field %(key)s.", key="/".join(path)))])
    own, _readable = own_condition(edited, found)
    if own is not None:
        edited["rules"].remove(own)  # the field's own "shown only when" goes with it
    container = found.parent
    del container.schema["properties"][found.name]
    container.ui.pop(found.name, None)
    if isinstance(container.ui.get("ui:order"), list) and found.name in container.ui["ui:order"]:
        container.ui["ui:order"].remove(found.name)
    _set_required(container, found.name, False)
    return tidy(spec, _unless_used(spec, edited, check))


def _unless_used(spec: dict, edited: dict, check) -> dict:
    """`edited` (a field gone from where it was), or Invalid naming what still reads it there."""
    problems = check(edited)
    if problems:
        uses = sorted({place_of(spec, problem.get("pointer") or "") for problem in problems})
        message = _(
            "The field is still used by: %(uses)s. Change or remove those first.", uses="; ".join(uses)
        )
        raise Invalid([problem("key", message)])
    return edited


def moved(spec: dict, path: tuple[str, ...], step: int) -> dict:
    """A copy of `spec` with the field one place earlier (step -1) or later (+1) in its group."""
    edited = copy.deepcopy(spec)
    found = where.locate(edited.setdefault("form", {}), path)
    if found is None:
        raise Invalid([problem("key", _("The form has no field %(key)s.", key="/".join(path)))])
    names = found.parent.names()
    index = names.index(found.name)
    target = min(max(index + step, 0), len(names) - 1)
    names.insert(target, names.pop(index))
    found.parent.ui["ui:order"] = names
    return tidy(spec, edited)


def reordered(
    spec: dict, group: tuple[str, ...], names: list[str], check, moved: tuple[str, ...] = ()
) -> dict:
    """A copy of `spec` with the group's (or the form's) fields in the order `names` gives, as a
    drag and drop leaves them; `moved` is a field dragged in from another group. Invalid unless
    `names` names each field of the group once, or when the move breaks a rule that reads it."""
    edited = copy.deepcopy(spec)
    form = edited.setdefault("form", {})
    container = where.container_at(form, group)
    errors: list[dict] = []
    found = where.locate(form, moved) if moved else None
    if moved and container is not None and found is not None and found.parent.path != group:
        found = _moved_to(form, found, "/".join(group), errors)
        container = where.container_at(form, group)
    if errors:
        raise Invalid(errors)
    if container is None or sorted(names) != sorted(container.names()):
        raise Invalid([problem("key", _("The page was out of date: reload it and move the field again."))])
    container.ui["ui:order"] = list(names)
    return tidy(spec, _unless_used(spec, edited, check) if found is not None else edited)


# --- placing a field ----------------------------------------------------------------------------


def _place(container: Container, name: str, after: str, moving: bool = False) -> None:
    """Put `name` after the field `after` ("" = at the end; when moving, "" keeps its place
    unless it just came into the group)."""
    order = container.ui.get("ui:order")
    if not after:
        if isinstance(order, list) and name not in order and not (moving and "*" in order):
            order.append(name)  # new here: last (an order that lists every field must list it)
        return  # "where it is", or no order written: the field keeps its place
    names = container.names()
    names.remove(name)
    names.insert(names.index(after) + 1 if after in names else len(names), name)
    container.ui["ui:order"] = names


def _set_required(container: Container, name: str, required: bool) -> None:
    names = container.schema.get("required")
    names = names if isinstance(names, list) else []
    if required and name not in names:
        container.schema["required"] = [*names, name]
    elif not required and name in names:
        names.remove(name)
        if not names:
            container.schema.pop("required", None)


def _moved_to(form: dict, found: Located, group: str, errors: list[dict]) -> Located:
    target = where.container_at(form, where.path_of(group))
    if target is None or target.path[: len(found.path)] == found.path:
        errors.append(problem("group", _("Choose a group of the form (not the field itself).")))
        return found
    if found.name in target.schema["properties"]:
        errors.append(problem("group", _("That group already has a field with this key.")))
        return found
    required = found.name in (found.parent.schema.get("required") or [])
    _set_required(found.parent, found.name, False)
    del found.parent.schema["properties"][found.name]
    found.parent.ui.pop(found.name, None)
    if isinstance(found.parent.ui.get("ui:order"), list) and found.name in found.parent.ui["ui:order"]:
        found.parent.ui["ui:order"].remove(found.name)
    target.schema["properties"][found.name] = found.schema
    target.ui[found.name] = found.ui
    _set_required(target, found.name, required)
    return where.locate_in(target, found.name)


# --- its condition --------------------------------------------------------------------------------


def rule_id(path: tuple[str, ...]) -> str:
    """The id of the designer's own "shown only when" rule of the field at `path`."""
    return "show-" + "--".join(part.replace("_", "-") for part in path)


def own_condition(spec: dict, found: Located) -> tuple[dict | None, tuple[str, Any] | None]:
    """(the designer's rule of the field, (the other field's slug, the value) when the designer
    can show it); a rule of another shape is the admin's own, left as it is."""
    for rule in spec.get("rules") or []:
        if (
            isinstance(rule, dict)
            and rule.get("id") == rule_id(found.path)
            and rule.get("field") == found.pointer
        ):
            when = rule.get("when")
            pair = when.get("==") if isinstance(when, dict) and len(when) == 1 else None
            if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], dict) and len(pair[0]) == 1:
                path, value = pair[0].get("var"), pair[1]
                scalar = isinstance(value, str | int | float | bool)
                if isinstance(path, str) and path.startswith("data.") and scalar:
                    return rule, (path.removeprefix("data.").replace(".", "/"), value)
            return rule, None
    return None, None


def _set_condition(
    spec: dict, found: Located, settings: FieldSettings, errors: list[dict], form: dict
) -> None:
    """The designer's "shown only when" as the field's `visible` rule (replaced on a change,
    removed when the field is always shown again; a rule the designer cannot show stays)."""
    rules = spec.get("rules") if isinstance(spec.get("rules"), list) else []
    own, readable = own_condition(spec, found)
    if own is not None and readable is None:
        return
    if not settings.when_field:
        if own is not None:
            rules.remove(own)
        return
    other = where.locate(form, where.path_of(settings.when_field))
    if other is None or other.parent.repeated or found.parent.repeated or other.path == found.path:
        errors.append(problem("when_field", _("Choose a field of the form.")))
        return
    rule = {
        "id": rule_id(found.path),
        "title": {"zh-CN": f"显示“{settings.title_zh}”", "en": f"Show “{settings.title_en or found.name}”"},
        "kind": "visible",
        "field": found.pointer,
        "when": {"==": [{"var": "data." + ".".join(other.path)}, _typed(settings.when_value, other.schema)]},
    }
    if own is not None:
        rules[rules.index(own)] = rule
    else:
        spec.setdefault("rules", []).append(rule)


def _typed(text: str, schema: dict) -> Any:
    if schema.get("type") == "boolean":
        return text.lower() in ("true", "yes", "1", "是")
    if schema.get("type") in ("number", "integer") and number(text) is not None:
        return number(text)
    return text


# --- the checks' problems, on the designer's inputs ----------------------------------------------


def tidy(original: dict, edited: dict) -> dict:
    """`edited` without the empty layout entries locating its fields made ({} for a field or a
    row that had none): what the admin did not change stays as it was."""

    def walk(before: object, after: dict) -> None:
        for name in list(after):
            value = after[name]
            had = before.get(name) if isinstance(before, dict) else None
            if isinstance(value, dict):
                walk(had, value)
                if not value and had is None:
                    del after[name]

    walk((original.get("form") or {}).get("uiSchema"), (edited.get("form") or {}).get("uiSchema") or {})
    return edited


def _checked(edited: dict, found: Located, errors: list[dict], check) -> dict:
    if errors:
        raise Invalid(errors)
    problems = check(edited)
    if problems:
        rule_at = _rule_index(edited, found.path)
        form = copy.deepcopy(edited.get("form") or {})
        raise Invalid([_at_input(problem, found, rule_at, form) for problem in problems])
    return edited


def _rule_index(spec: dict, path: tuple[str, ...]) -> int | None:
    for index, rule in enumerate(spec.get("rules") or []):
        if isinstance(rule, dict) and rule.get("id") == rule_id(path):
            return index
    return None


def _bases(form: dict, path: tuple[str, ...]) -> tuple[str, str]:
    """Where the field at `path` has its schema and its layout (a repeating group's fields are
    under its `items`)."""
    schema, ui = "/form/schema", "/form/uiSchema"
    for index, name in enumerate(path):
        schema, ui = join(schema, "properties", name), join(ui, name)
        found = where.locate(form, path[: index + 1])
        if index < len(path) - 1 and found is not None and where.kind_of(found.schema, found.ui) == "repeat":
            schema, ui = join(schema, "items"), join(ui, "items")
    return schema, ui


def _at_input(problem: dict, found: Located, rule_at: int | None, form: dict) -> dict:
    pointer = problem.get("pointer") or ""
    base, ui_base = _bases(form, found.path)
    for suffix, name in (
        ("/minimum", "minimum"), ("/maximum", "maximum"), ("/minItems", "minimum"),
        ("/maxItems", "maximum"), ("/minLength", "min_length"), ("/maxLength", "max_length"),
        ("/pattern", "pattern"), ("/default", "default"), ("/oneOf", "options"), ("/items/oneOf", "options"),
        ("", "key"),
    ):  # fmt: skip
        if pointer == base + suffix or pointer.startswith(base + suffix + "/"):
            return {**problem, "pointer": join(AT, name)}
    if pointer == ui_base or pointer.startswith(ui_base + "/"):
        return {**problem, "pointer": join(AT, "title_zh")}
    if rule_at is not None and pointer.startswith(f"/rules/{rule_at}"):
        return {**problem, "pointer": join(AT, "when_value")}
    return problem
