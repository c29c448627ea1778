"""What changed between two versions of a spec, in sentences an admin can check before importing."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from formflow.processes.spec import pointer

#: Sections compared item by item when their items carry one of these identifiers.
_ITEM_IDS = ("id", "key", "name")


def _field_definitions(schema: Any, path: tuple = (), required: bool = False) -> dict[str, dict]:
    """Data pointer -> the field's own definition, for every field of a form schema.

    Children are listed under their own pointers (array items under `-`), so a change to
    a nested field is reported once, at that field. Whether a field is required lives on
    its parent in JSON Schema; here it is part of the field's own definition.
    """
    if not isinstance(schema, dict):
        return {}
    own = {name: value for name, value in schema.items() if name not in ("properties", "required")}
    fields: dict[str, dict] = {pointer(path): own}  # a parent before its children
    if path:
        own["required"] = required
    children = schema.get("properties")
    if isinstance(children, dict):
        required_names = schema.get("required") if isinstance(schema.get("required"), list) else []
        own["order"] = list(children)
        for name, child in children.items():
            fields.update(_field_definitions(child, (*path, name), name in required_names))
    items = schema.get("items")
    if isinstance(items, dict) and isinstance(items.get("properties"), dict):
        item_fields = _field_definitions(items, (*path, "-"))
        own["items"] = item_fields.pop(pointer((*path, "-")))
        fields.update(item_fields)
    return fields


def _without_order(definition: dict) -> dict:
    plain = {name: value for name, value in definition.items() if name != "order"}
    if isinstance(plain.get("items"), dict):
        plain["items"] = _without_order(plain["items"])
    return plain


def _field_order(definition: dict) -> list[str]:
    items = definition.get("items")
    return definition.get("order") or (items.get("order", []) if isinstance(items, dict) else [])


def _label(definition: dict) -> str:
    title = definition.get("title")
    return f" ({title})" if isinstance(title, str) and title else ""


def _form_changes(old: dict, new: dict) -> list[str]:
    changes = []
    old_fields = _field_definitions(old.get("schema"))
    new_fields = _field_definitions(new.get("schema"))
    for path, definition in new_fields.items():
        if path not in old_fields:
            changes.append(_("Field added: %(field)s%(title)s", field=path, title=_label(definition)))
    for path, definition in old_fields.items():
        if path not in new_fields:
            changes.append(_("Field removed: %(field)s%(title)s", field=path, title=_label(definition)))
    for path, definition in new_fields.items():
        before = old_fields.get(path)
        if before is None or before == definition:
            continue
        if _without_order(before) != _without_order(definition):
            if path == "":
                changes.append(_("Form schema changed at its root (e.g. if/then, $defs)."))
            else:
                changes.append(_("Field changed: %(field)s%(title)s", field=path, title=_label(definition)))
        old_order, new_order = _field_order(before), _field_order(definition)
        if old_order != new_order and set(old_order) == set(new_order):
            changes.append(_("Order of fields changed in %(field)s", field=path or "/"))
    old_ui, new_ui = old.get("uiSchema") or {}, new.get("uiSchema") or {}
    if old_ui != new_ui:
        names = [name for name in {**old_ui, **new_ui} if old_ui.get(name) != new_ui.get(name)]
        changes.append(_("Form layout (uiSchema) changed: %(members)s", members=", ".join(names)))
    return changes


def _identify(item: Any) -> str | None:
    if isinstance(item, dict):
        for name in _ITEM_IDS:
            if isinstance(item.get(name), str):
                return item[name]
    return None


def _list_changes(section: str, old: Any, new: Any) -> list[str]:
    old_items = {_identify(item): item for item in old} if isinstance(old, list) else {}
    new_items = {_identify(item): item for item in new} if isinstance(new, list) else {}
    if None in old_items or None in new_items or len(old_items) != len(old or []):
        return [_("Section %(section)s changed.", section=section)]
    changes = [
        _("%(section)s: added %(item)s", section=section, item=name)
        for name in new_items
        if name not in old_items
    ]
    changes += [
        _("%(section)s: removed %(item)s", section=section, item=name)
        for name in old_items
        if name not in new_items
    ]
    changes += [
        _("%(section)s: changed %(item)s", section=section, item=name)
        for name, item in new_items.items()
        if name in old_items and old_items[name] != item
    ]
    if not changes and list(old_items) != list(new_items):
        changes.append(_("%(section)s: order changed", section=section))
    return changes


def describe_changes(old: dict, new: dict) -> list[str]:
    """Human sentences for each difference between two specs; [] when they are equal."""
    changes = []
    for language in ("zh-CN", "en"):
        before = (old.get("name") or {}).get(language)
        after = (new.get("name") or {}).get(language)
        if before != after:
            changes.append(
                _(
                    "Name (%(language)s): %(before)s → %(after)s",
                    language=language,
                    before=before,
                    after=after,
                )
            )
    if old.get("category") != new.get("category"):
        changes.append(
            _("Category: %(before)s → %(after)s", before=old.get("category"), after=new.get("category"))
        )
    if old.get("description") != new.get("description"):
        changes.append(_("Description changed."))
    changes += _form_changes(old.get("form") or {}, new.get("form") or {})
    for section in ("rules", "tables", "tests"):
        if old.get(section) != new.get(section):
            changes += _list_changes(section, old.get(section), new.get(section))
    if old.get("workflow") != new.get("workflow"):
        changes.append(_("Workflow changed."))
    known = {
        "formflow",
        "key",
        "name",
        "category",
        "description",
        "form",
        "rules",
        "tables",
        "tests",
        "workflow",
    }
    for section in sorted(({*old} | {*new}) - known):
        if old.get(section) != new.get(section):
            changes.append(_("Section %(section)s changed.", section=section))
    if not changes and list(old) != list(new):
        changes.append(_("Order of the spec's sections changed."))
    return changes
