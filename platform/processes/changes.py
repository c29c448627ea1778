"""What changed between two versions of a spec, in sentences an admin can check: each element by
its label in the reader's language (the key beside it), each property as "before → after".

    describe_changes(v1.spec, v2.spec) ->
        ["Field “Amount” (/amount): maximum 5000 → 8000",
         "Checklist item added at “Execution”: “Revoke access” (revoke_access)",
         "Rule “Explain an ‘other’ reason” (show-other-reason) changed: when"]

Used by the import summary, the version pages and `formflow diff`."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow.forms.texts import localized
from formflow.processes.spec import pointer

#: list sections whose items carry one of these identifiers are compared item by item
_ITEM_IDS = ("id", "key", "name")
#: a value longer than this is said to have changed, not shown
_SHOWN = 60

#: JSON Schema keywords of a field, as admins know them
_FIELD_WORDS = {
    "title": _l("label"),
    "description": _l("help"),
    "type": _l("type"),
    "format": _l("format"),
    "minimum": _l("minimum"),
    "maximum": _l("maximum"),
    "exclusiveMinimum": _l("minimum (exclusive)"),
    "exclusiveMaximum": _l("maximum (exclusive)"),
    "multipleOf": _l("step"),
    "minLength": _l("minimum length"),
    "maxLength": _l("maximum length"),
    "pattern": _l("pattern"),
    "enum": _l("options"),
    "oneOf": _l("options"),
    "default": _l("default"),
    "readOnly": _l("read-only"),
    "minItems": _l("minimum count"),
    "maxItems": _l("maximum count"),
    "items": _l("item fields"),
}
#: a workflow state's and an action's properties
_STATE_WORDS = {
    "title": _l("title"),
    "kind": _l("kind"),
    "assignee": _l("assignee"),
    "not_initiator": _l("not the initiator"),
    "approvals": _l("approvals"),
    "sla": _l("SLA"),
    "fields": _l("fields edited"),
    "on_enter": _l("effects on entering"),
}
_ACTION_WORDS = {
    "title": _l("title"),
    "to": _l("target"),
    "roles": _l("roles"),
    "guard": _l("guard"),
    "comment_required": _l("comment required"),
    "checklist_required": _l("checklist required"),
    "effects": _l("effects"),
}
#: settings inside a state's approvals, sla and assignee
_SETTING_WORDS = {
    "required": _l("number required"),
    "distinct": _l("distinct approvers"),
    "exclude_earlier_approvers": _l("excluding earlier approvers"),
    "approve": _l("on approval"),
    "reject": _l("on rejection"),
    "due": _l("due"),
    "remind_before": _l("reminders"),
    "on_expire": _l("on expiry"),
    "role": _l("role"),
    "field": _l("field"),
}
_CHECKLIST_WORDS = {"label": _l("label"), "required": _l("required"), "evidence": _l("evidence required")}
_RULE_WORDS = {"title": _l("title"), "kind": _l("kind"), "field": _l("field"), "when": _l("condition")}


def describe_changes(old: dict, new: dict) -> list[str]:
    """Human sentences for each difference between two specs; [] when they are equal."""
    old, new = old or {}, new or {}
    changes = _header_changes(old, new)
    changes += _form_changes(old.get("form") or {}, new.get("form") or {})
    if old.get("rules") != new.get("rules"):
        changes += _list_changes(_("Rules"), old.get("rules"), new.get("rules"), _titled, _RULE_WORDS)
    changes += _table_changes(old.get("tables"), new.get("tables"))
    if old.get("tests") != new.get("tests"):
        changes += _list_changes(_("Tests"), old.get("tests"), new.get("tests"), _test_label)
    changes += _workflow_changes(old.get("workflow") or {}, new.get("workflow") or {})
    known = {"formflow", "key", "name", "category", "description", "form", "rules", "tables", "tests"}
    for section in sorted(({*old} | {*new}) - known - {"workflow"}):
        if old.get(section) != new.get(section):
            changes.append(_("Section %(section)s changed.", section=section))
    if not changes and list(old) != list(new):
        changes.append(_("Order of the spec's sections changed."))
    return changes


# --- what a value looks like ------------------------------------------------------------------


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict) and value and set(value) <= {"zh-CN", "en"}:
        return localized(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _from_to(word: Any, before: Any, after: Any) -> str:
    """ "maximum 5000 → 8000"; "when changed" when either side is too long to show."""
    shown_before, shown_after = _shown(before), _shown(after)
    if len(shown_before) > _SHOWN or len(shown_after) > _SHOWN:
        return _("%(property)s changed", property=word)
    return _("%(property)s %(before)s → %(after)s", property=word, before=shown_before, after=shown_after)


def _property_changes(before: dict, after: dict, words: dict, *, skip: tuple = ()) -> list[str]:
    """One phrase per property that differs, known properties by their words, in their order."""
    names = [name for name in words if name not in skip]
    names += sorted(({*before} | {*after}) - set(words) - set(skip))
    phrases = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if _is_section(old) and _is_section(new):  # approvals, sla, assignee: what changed inside
            inner = _property_changes(old, new, _SETTING_WORDS)
            phrases.append(
                _("%(property)s: %(changes)s", property=words.get(name, name), changes=_joined(inner))
            )
        else:
            phrases.append(_from_to(words.get(name, name), old, new))
    return phrases


def _joined(phrases: list[str]) -> str:
    return _("; ").join(phrases)


def _is_section(value: Any) -> bool:
    """A dict of settings (approvals, sla): several keys, not a {language: text} map (a JSONLogic
    expression has one key)."""
    return isinstance(value, dict) and len(value) > 1 and not set(value) <= {"zh-CN", "en"}


def _named(label: str, key: str) -> str:
    """ "“Amount” (/amount)", or the key alone when the element has no label."""
    return f"“{label}” ({key})" if label and label != key else key


# --- the header -------------------------------------------------------------------------------


def _header_changes(old: dict, new: dict) -> list[str]:
    changes = []
    for language in ("zh-CN", "en"):
        before, after = (old.get("name") or {}).get(language), (new.get("name") or {}).get(language)
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
    return changes


# --- the form ---------------------------------------------------------------------------------


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


def _field_order(definition: dict) -> list[str]:
    items = definition.get("items")
    return definition.get("order") or (items.get("order", []) if isinstance(items, dict) else [])


def _field_name(path: str, definition: dict) -> str:
    return _named(localized(definition.get("title")), path)


def _one_field_changes(path: str, before: dict, after: dict) -> list[str]:
    changes = []
    skip = ("order", "required")
    if isinstance(before.get("items"), dict) and isinstance(after.get("items"), dict):
        skip += ("items",)  # its fields are compared one by one
    if path == "":
        if _property_changes(before, after, {}, skip=skip):
            changes.append(_("Form schema changed at its root (e.g. if/then, $defs)."))
    else:
        phrases = _property_changes(before, after, _FIELD_WORDS, skip=skip)
        if before.get("required") != after.get("required"):
            phrases.insert(0, _("now required") if after.get("required") else _("no longer required"))
        if phrases:
            changes.append(
                _("Field %(field)s: %(changes)s", field=_field_name(path, after), changes=_joined(phrases))
            )
    old_order, new_order = _field_order(before), _field_order(after)
    if old_order != new_order and set(old_order) == set(new_order):
        where = _field_name(path, after) if path else "/"
        changes.append(_("Order of fields changed in %(field)s", field=where))
    return changes


def _form_changes(old: dict, new: dict) -> list[str]:
    changes = []
    old_fields, new_fields = _field_definitions(old.get("schema")), _field_definitions(new.get("schema"))
    for path, definition in new_fields.items():
        if path not in old_fields:
            changes.append(_("Field added: %(field)s", field=_field_name(path, definition)))
    for path, definition in old_fields.items():
        if path not in new_fields:
            changes.append(_("Field removed: %(field)s", field=_field_name(path, definition)))
    for path, definition in new_fields.items():
        before = old_fields.get(path)
        if before is not None and before != definition:
            changes += _one_field_changes(path, before, definition)
    changes += _layout_changes(old.get("uiSchema") or {}, new.get("uiSchema") or {}, old_fields | new_fields)
    return changes


def _layout_changes(old_ui: dict, new_ui: dict, fields: dict[str, dict]) -> list[str]:
    if old_ui == new_ui:
        return []
    changes = []
    for name in [name for name in {**old_ui, **new_ui} if old_ui.get(name) != new_ui.get(name)]:
        before, after = old_ui.get(name), new_ui.get(name)
        if name.startswith("ui:") or not isinstance(before or after or {}, dict):
            changes.append(_("Form layout: %(change)s", change=_from_to(name, before, after)))
            continue
        path = pointer((name,))
        words = {key: key.removeprefix("ui:") for key in {**(before or {}), **(after or {})}}
        phrases = _property_changes(before or {}, after or {}, words)
        changes.append(
            _(
                "Layout of field %(field)s: %(changes)s",
                field=_field_name(path, fields.get(path, {})),
                changes=_joined(phrases),
            )
        )
    return changes


# --- rules, tables, tests ---------------------------------------------------------------------


def _identify(item: Any) -> str | None:
    if isinstance(item, dict):
        for name in _ITEM_IDS:
            if isinstance(item.get(name), str):
                return item[name]
    return None


def _keyed(items: Any) -> dict | None:
    """{identifier: item}; None when an item has no identifier or one is repeated."""
    if not isinstance(items, list):
        return {} if items is None else None
    keyed = {_identify(item): item for item in items}
    return None if None in keyed or len(keyed) != len(items) else keyed


def _list_changes(section: str, old: Any, new: Any, label, words: dict | None = None) -> list[str]:
    old_items, new_items = _keyed(old), _keyed(new)
    if old_items is None or new_items is None:
        return [_("Section %(section)s changed.", section=section)]
    changes = [
        _("%(section)s: added %(item)s", section=section, item=label(item))
        for name, item in new_items.items()
        if name not in old_items
    ]
    changes += [
        _("%(section)s: removed %(item)s", section=section, item=label(item))
        for name, item in old_items.items()
        if name not in new_items
    ]
    for name, item in new_items.items():
        before = old_items.get(name)
        if before is None or before == item:
            continue
        phrases = _property_changes(before, item, words) if words is not None else []
        if phrases:
            changes.append(
                _(
                    "%(section)s: %(item)s: %(changes)s",
                    section=section,
                    item=label(item),
                    changes=_joined(phrases),
                )
            )
        else:
            changes.append(_("%(section)s: changed %(item)s", section=section, item=label(item)))
    if not changes and list(old_items) != list(new_items):
        changes.append(_("%(section)s: order changed", section=section))
    return changes


def _titled(item: dict, title_key: str = "title") -> str:
    return _named(localized(item.get(title_key)), _identify(item) or "")


def _test_label(item: dict) -> str:
    return _named(localized(item.get("title") or item.get("name")), _identify(item) or "")


def _table_changes(old: Any, new: Any) -> list[str]:
    if old == new:
        return []
    old_tables, new_tables = _keyed(old), _keyed(new)
    if old_tables is None or new_tables is None:
        return [_("Section %(section)s changed.", section="tables")]
    section = _("Tables")
    changes = [
        _("%(section)s: added %(item)s", section=section, item=_table_name(table))
        for key, table in new_tables.items()
        if key not in old_tables
    ]
    changes += [
        _("%(section)s: removed %(item)s", section=section, item=_table_name(table))
        for key, table in old_tables.items()
        if key not in new_tables
    ]
    for key, table in new_tables.items():
        before = old_tables.get(key)
        if before is not None and before != table:
            phrases = _table_phrases(before, table)
            changes.append(
                _(
                    "%(section)s: %(item)s: %(changes)s",
                    section=section,
                    item=_table_name(table),
                    changes=_joined(phrases),
                )
            )
    return changes


def _table_name(table: dict) -> str:
    return _named(localized(table.get("name")), str(table.get("key") or ""))


def _table_phrases(before: dict, after: dict) -> list[str]:
    old_columns, new_columns = _keyed(before.get("columns")) or {}, _keyed(after.get("columns")) or {}
    phrases = [
        _("column added: %(column)s", column=_column_name(c))
        for n, c in new_columns.items()
        if n not in old_columns
    ]
    phrases += [
        _("column removed: %(column)s", column=_column_name(c))
        for n, c in old_columns.items()
        if n not in new_columns
    ]
    phrases += [
        _(
            "column %(column)s: %(changes)s",
            column=_column_name(c),
            changes=_joined(_property_changes(old_columns[n], c, {})),
        )
        for n, c in new_columns.items()
        if n in old_columns and old_columns[n] != c
    ]
    phrases += _row_phrases(before, after)
    phrases += _property_changes(before, after, {"name": _("name")}, skip=("columns", "rows", "key"))
    return phrases or [_("changed")]


def _column_name(column: dict) -> str:
    return _named(localized(column.get("title")), str(column.get("name")))


def _row_phrases(before: dict, after: dict) -> list[str]:
    old_rows, new_rows = before.get("rows") or [], after.get("rows") or []
    if old_rows == new_rows:
        return []
    key_column = after.get("keyColumn") or before.get("keyColumn")
    old_by_key = _rows_by_key(_row_dicts(before), key_column)
    new_by_key = _rows_by_key(_row_dicts(after), key_column)
    if old_by_key is None or new_by_key is None:
        return [_("rows changed (%(before)d → %(after)d)", before=len(old_rows), after=len(new_rows))]
    titles = {
        column.get("name"): localized(column.get("title")) or column.get("name")
        for column in after.get("columns") or []
        if isinstance(column, dict)
    }
    phrases = [_("row added: %(key)s", key=key) for key in new_by_key if key not in old_by_key]
    phrases += [_("row removed: %(key)s", key=key) for key in old_by_key if key not in new_by_key]
    for key, row in new_by_key.items():
        old_row = old_by_key.get(key)
        if old_row is not None and old_row != row:
            cells = _property_changes(old_row, row, titles)
            phrases.append(_("row %(key)s: %(changes)s", key=key, changes=_joined(cells)))
    return phrases


def _row_dicts(table: dict) -> list:
    """The table's rows as {column: cell} (rows are lists in the columns' order)."""
    names = [column.get("name") for column in table.get("columns") or [] if isinstance(column, dict)]
    rows = table.get("rows") or []
    return [dict(zip(names, row, strict=False)) if isinstance(row, list) else row for row in rows]


def _rows_by_key(rows: list, key_column: Any) -> dict | None:
    if not key_column or not all(isinstance(row, dict) and key_column in row for row in rows):
        return None
    keyed = {str(row[key_column]): row for row in rows}
    return keyed if len(keyed) == len(rows) else None


# --- the workflow -----------------------------------------------------------------------------


def _states(workflow: dict) -> dict:
    states = workflow.get("states")
    return states if isinstance(states, dict) else {}


def _state_name(states: dict, name: str) -> str:
    state = states.get(name)
    return _named(localized(state.get("title")) if isinstance(state, dict) else "", name)


def _workflow_changes(old: dict, new: dict) -> list[str]:
    if old == new:
        return []
    old_states, new_states = _states(old), _states(new)
    changes = []
    if old.get("start") != new.get("start"):
        changes.append(
            _(
                "Workflow start: %(before)s → %(after)s",
                before=_state_name(old_states, old.get("start") or "—"),
                after=_state_name(new_states, new.get("start") or "—"),
            )
        )
    changes += [
        _("State added: %(state)s", state=_state_name(new_states, name))
        for name in new_states
        if name not in old_states
    ]
    changes += [
        _("State removed: %(state)s", state=_state_name(old_states, name))
        for name in old_states
        if name not in new_states
    ]
    for name, state in new_states.items():
        before = old_states.get(name)
        if isinstance(before, dict) and isinstance(state, dict) and before != state:
            changes += _state_changes(_state_name(new_states, name), before, state, new_states)
    if list(old_states) != list(new_states) and set(old_states) == set(new_states):
        changes.append(_("Order of the workflow's states changed."))
    for section in sorted(({*old} | {*new}) - {"start", "states"}):
        if old.get(section) != new.get(section):
            changes.append(_("Workflow %(section)s changed.", section=section))
    return changes


def _state_changes(state: str, before: dict, after: dict, states: dict) -> list[str]:
    changes = []
    phrases = _property_changes(before, after, _STATE_WORDS, skip=("actions", "checklist"))
    if phrases:
        changes.append(_("State %(state)s: %(changes)s", state=state, changes=_joined(phrases)))
    changes += _checklist_changes(state, before.get("checklist"), after.get("checklist"))
    old_actions, new_actions = before.get("actions") or {}, after.get("actions") or {}
    if not isinstance(old_actions, dict) or not isinstance(new_actions, dict):
        return changes

    def action(name: str, actions: dict) -> str:
        title = actions[name].get("title") if isinstance(actions[name], dict) else None
        return _named(localized(title), name)

    for name in new_actions:
        if name not in old_actions:
            changes.append(
                _("Action added at %(state)s: %(action)s", state=state, action=action(name, new_actions))
            )
    for name in old_actions:
        if name not in new_actions:
            changes.append(
                _("Action removed at %(state)s: %(action)s", state=state, action=action(name, old_actions))
            )
    for name, spec in new_actions.items():
        old_spec = old_actions.get(name)
        if isinstance(old_spec, dict) and isinstance(spec, dict) and old_spec != spec:
            targets = {
                key: _state_name(states, value)
                for key, value in (("old", old_spec.get("to")), ("new", spec.get("to")))
            }
            phrases = _property_changes(old_spec, spec, _ACTION_WORDS, skip=("to",))
            if old_spec.get("to") != spec.get("to"):
                phrases.insert(0, _from_to(_ACTION_WORDS["to"], targets["old"], targets["new"]))
            changes.append(
                _(
                    "Action %(action)s at %(state)s: %(changes)s",
                    action=action(name, new_actions),
                    state=state,
                    changes=_joined(phrases),
                )
            )
    return changes


def _item_name(item: dict) -> str:
    return _named(localized(item.get("label")), str(item.get("id")))


def _checklist_items(checklist: Any) -> Any:
    return checklist.get("items") if isinstance(checklist, dict) else checklist


def _checklist_changes(state: str, old: Any, new: Any) -> list[str]:
    if old == new:
        return []
    old_items, new_items = _keyed(_checklist_items(old)), _keyed(_checklist_items(new))
    if old_items is None or new_items is None:
        return [_("State %(state)s: checklist changed", state=state)]
    changes = [
        _("Checklist item added at %(state)s: %(item)s", state=state, item=_item_name(item))
        for key, item in new_items.items()
        if key not in old_items
    ]
    changes += [
        _("Checklist item removed at %(state)s: %(item)s", state=state, item=_item_name(item))
        for key, item in old_items.items()
        if key not in new_items
    ]
    for key, item in new_items.items():
        before = old_items.get(key)
        if before is not None and before != item:
            phrases = _property_changes(before, item, _CHECKLIST_WORDS)
            changes.append(
                _(
                    "Checklist item %(item)s at %(state)s: %(changes)s",
                    item=_item_name(item),
                    state=state,
                    changes=_joined(phrases),
                )
            )
    if not changes and list(old_items) != list(new_items):
        changes.append(_("Order of the checklist changed at %(state)s", state=state))
    if _checklist_options(old) != _checklist_options(new):
        changes.append(_("State %(state)s: checklist changed", state=state))
    return changes


def _checklist_options(checklist: Any) -> dict:
    """What a checklist says besides its items (e.g. its `required` condition)."""
    return {k: v for k, v in checklist.items() if k != "items"} if isinstance(checklist, dict) else {}
