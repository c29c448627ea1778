"""Where a form's fields are in its spec, what kind each is, and the outline the form designer
shows: fields in form order, groups with their fields inside.

A field is named by its path of keys: ("amount",), ("contact", "phone") for a field of the
group `contact`, ("items", "amount") for a field of each row of the repeating group `items`
(its schema under `items.items.properties`, its layout under `uiSchema.items.items`).

    found = locate(spec["form"], ("contact", "phone"))
    found.schema, found.ui, found.parent.schema["required"]
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from formflow.forms.texts import localized

#: the kinds the designer's palette offers, in its order
KINDS = (
    "text", "textarea", "number", "money", "date", "datetime", "select", "radio", "multiselect",
    "checkbox", "file", "group", "repeat",
)  # fmt: skip
CONTAINERS = ("group", "repeat")
CHOICES = ("select", "radio", "multiselect")


@dataclass
class Container:
    """An object schema holding fields: the form itself, a group, or a repeating group's row."""

    schema: dict  # has "properties"
    ui: dict  # the layout of its fields ("ui:order", one entry per field)
    path: tuple[str, ...]
    repeated: bool = False  # a repeating group's row (its fields are not addressable by one pointer)
    #: the data pointer of its fields' parent: "" for the form, `/items/*` for a repeating row
    pointer: str = ""

    def names(self) -> list[str]:
        """The fields in the order the form shows them: `ui:order`, its `"*"` standing for every
        field it does not list (at its place), the unlisted ones last when it has none."""
        properties = self.schema.get("properties") or {}
        order = [name for name in self.ui.get("ui:order") or [] if name in properties or name == "*"]
        listed = [name for name in order if name != "*"]
        rest = [name for name in properties if name not in listed]
        if "*" in order:
            at = order.index("*")
            return listed[:at] + rest + listed[at:]
        return listed + rest


@dataclass
class Located:
    """A field: its schema and layout, and the container it belongs to."""

    path: tuple[str, ...]
    schema: dict
    ui: dict
    parent: Container
    #: the data pointer rules name it by: `/contact/phone`, `/items/*/amount` in a repeating group
    pointer: str = ""

    @property
    def name(self) -> str:
        return self.path[-1]


@dataclass
class OutlineItem:
    path: tuple[str, ...]
    label: str
    kind: str
    required: bool
    children: list[OutlineItem] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return "/".join(self.path)


def root(form: dict) -> Container:
    """The form's own container, created where missing (so an edit can write into it)."""
    schema = form.setdefault("schema", {"type": "object"})
    schema.setdefault("properties", {})
    return Container(schema, form.setdefault("uiSchema", {}), ())


def inner(found: Located) -> Container | None:
    """The container a group or repeating group holds (None for any other field)."""
    kind = kind_of(found.schema, found.ui)
    if kind == "group":
        found.schema.setdefault("properties", {})
        return Container(found.schema, found.ui, found.path, pointer=found.pointer)
    if kind == "repeat":
        items = found.schema.setdefault("items", {"type": "object"})
        items.setdefault("properties", {})
        row_ui = found.ui.setdefault("items", {})
        return Container(items, row_ui, found.path, repeated=True, pointer=found.pointer + "/*")
    return None


def locate(form: dict, path: tuple[str, ...]) -> Located | None:
    """The field at `path`, or None when there is none."""
    container: Container | None = root(form)
    found = None
    for name in path:
        if container is None or name not in (container.schema.get("properties") or {}):
            return None
        schema = container.schema["properties"][name]
        ui = container.ui.get(name)
        if not isinstance(ui, dict):
            ui = container.ui[name] = {}
        if not isinstance(schema, dict):
            return None
        found = Located((*container.path, name), schema, ui, container, f"{container.pointer}/{name}")
        container = inner(found)
    return found


def container_at(form: dict, path: tuple[str, ...]) -> Container | None:
    """The container at `path`: () for the form, else the group or repeating group there."""
    if not path:
        return root(form)
    found = locate(form, path)
    return inner(found) if found is not None else None


def kind_of(schema: dict, ui: dict) -> str:
    """The designer's kind of a field, read from its schema and layout."""
    widget = ui.get("ui:widget")
    kind = schema.get("type")
    if kind == "object":
        return "group"
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return "repeat" if items.get("type") == "object" or "properties" in items else "multiselect"
    if kind == "boolean":
        return "checkbox"
    if kind in ("number", "integer"):
        return "money" if schema.get("multipleOf") == 0.01 else "number"
    if widget == "file" or schema.get("format") == "data-url":
        return "file"
    if schema.get("format") == "date":
        return "date"
    if schema.get("format") == "date-time":
        return "datetime"
    if "oneOf" in schema or "enum" in schema:
        return "radio" if widget == "radio" else "select"
    return "textarea" if widget == "textarea" else "text"


def label_of(name: str, schema: dict, ui: dict) -> str:
    return localized(ui.get("ui:title")) or localized(schema.get("title")) or name


def outline(spec: dict) -> list[OutlineItem]:
    """Every field, in form order, groups holding theirs."""
    form = spec.get("form") if isinstance(spec.get("form"), dict) else {}
    return _outline(root(copy.deepcopy(form)))  # locating fills gaps in


def _outline(container: Container) -> list[OutlineItem]:
    required = container.schema.get("required") or []
    items = []
    for name in container.names():
        found = locate_in(container, name)
        if found is None:
            continue
        kind = kind_of(found.schema, found.ui)
        item = OutlineItem(found.path, label_of(name, found.schema, found.ui), kind, name in required)
        holder = inner(found)
        if holder is not None:
            item.children = _outline(holder)
        items.append(item)
    return items


def locate_in(container: Container, name: str) -> Located | None:
    schema = (container.schema.get("properties") or {}).get(name)
    if not isinstance(schema, dict):
        return None
    ui = container.ui.get(name)
    if not isinstance(ui, dict):
        ui = container.ui[name] = {}
    return Located((*container.path, name), schema, ui, container, f"{container.pointer}/{name}")


def groups(spec: dict) -> list[tuple[str, str]]:
    """(slug, label) of every group and repeating group, for "in group" choices."""
    found: list[tuple[str, str]] = []

    def walk(items: list[OutlineItem], prefix: str) -> None:
        for item in items:
            if item.kind in CONTAINERS:
                found.append((item.slug, prefix + item.label))
                walk(item.children, prefix + item.label + " › ")

    walk(outline(spec), "")
    return found


def path_of(slug: str) -> tuple[str, ...]:
    return tuple(part for part in (slug or "").split("/") if part)
