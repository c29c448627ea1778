"""A process's own parameter tables, their structure edited without JSON: add a table, add,
rename, retype, reorder and remove its columns (the existing rows follow: a new column gets
the value the admin gives them), remove a table. A column or a table that a rule or a workflow
step still looks up is not removed: the message names the column and who reads it.

    spec = with_table(spec, settings, check, original="deduction_limits")
    spec = without_table(spec, "deduction_limits", check)
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from formflow.errors import Invalid
from formflow.forms.texts import localized
from formflow.processes.editor_problems import whole_number
from formflow.processes.spec_places import place_of
from formflow.tables.cells import COLUMN_TYPES, KEY_PATTERN, MAX_COLUMNS, parse_cell

AT = "/tables/edit"


@dataclass
class ColumnRow:
    name: str = ""
    title_zh: str = ""
    title_en: str = ""
    type: str = "text"
    fill: str = ""  # a new column: the value the existing rows get
    old: str = ""  # the name it had ("" for a new column)


@dataclass
class TableSettings:
    key: str = ""
    name_zh: str = ""
    name_en: str = ""
    key_column: str = ""
    columns: list[ColumnRow] = field(default_factory=lambda: [ColumnRow()])


def _problem(name: str, message: str) -> dict:
    return {"pointer": f"{AT}/{name}", "message": message}


def settings_of(table: dict) -> TableSettings:
    columns = []
    for column in table.get("columns") or []:
        if isinstance(column, str):
            columns.append(ColumnRow(name=column, type="", old=column))
        elif isinstance(column, dict):
            title = column.get("title") if isinstance(column.get("title"), dict) else {}
            columns.append(ColumnRow(column.get("name", ""), title.get("zh-CN", ""), title.get("en", ""),
                                     column.get("type", ""), "", column.get("name", "")))  # fmt: skip
    name = table.get("name") if isinstance(table.get("name"), dict) else {}
    first = columns[0].name if columns else ""
    return TableSettings(table.get("key", ""), name.get("zh-CN", ""), name.get("en", ""),
                         table.get("keyColumn") or first, columns)  # fmt: skip


def from_form(form) -> TableSettings:
    text = form.get("column_count") or "0"
    count = min(whole_number(text) or 0, MAX_COLUMNS + 1)
    columns = [
        ColumnRow(
            **{
                part: (form.get(f"columns-{i}-{part}") or "").strip()
                for part in ("name", "title_zh", "title_en", "type", "fill", "old")
            }
        )
        for i in range(count)
    ]
    chosen = (form.get("key_column") or "").strip()  # the key column's place in the list
    place = whole_number(chosen)
    key_column = columns[place].name if place is not None and place < len(columns) else ""
    return TableSettings(
        key=(form.get("key") or "").strip(),
        name_zh=(form.get("name_zh") or "").strip(),
        name_en=(form.get("name_en") or "").strip(),
        key_column=key_column,
        columns=columns,
    )


def changed(settings: TableSettings, command: str) -> TableSettings:
    """The form after an add/remove/move button (nothing saved)."""
    verb, _sep, index = command.partition(":")
    position = whole_number(index)
    position = position if position is not None and position < len(settings.columns) else None
    if verb == "add_column" and len(settings.columns) < MAX_COLUMNS:
        settings.columns.append(ColumnRow())
    elif verb == "remove_column" and position is not None and len(settings.columns) > 1:
        del settings.columns[position]
    elif verb in ("up", "down") and position is not None:
        target = position - 1 if verb == "up" else position + 1
        if 0 <= target < len(settings.columns):
            columns = settings.columns
            columns[position], columns[target] = columns[target], columns[position]
    return settings


def lookups(value: Any, pointer: str = "") -> Iterator[tuple[str, str, str]]:
    """(pointer, table, column) of every `{"lookup": [table, key, column]}` with literal names."""
    if isinstance(value, dict):
        arguments = value.get("lookup")
        if (
            isinstance(arguments, list)
            and len(arguments) == 3
            and all(isinstance(a, str) for a in arguments[::2])
        ):
            yield pointer, arguments[0], arguments[2]
        for name, item in value.items():
            yield from lookups(item, f"{pointer}/{name.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from lookups(item, f"{pointer}/{index}")


def _readers(spec: dict, table: str, column: str | None = None) -> list[str]:
    places = {
        place_of(spec, pointer)
        for pointer, name, looked_up in lookups({k: v for k, v in spec.items() if k != "tables"})
        if name == table and (column is None or looked_up == column)
    }
    return sorted(places)


def with_table(spec: dict, settings: TableSettings, check, original: str | None = None) -> dict:
    """A copy of `spec` with the table `original` changed (None: a new table added)."""
    edited = copy.deepcopy(spec)
    tables = edited.setdefault("tables", [])
    index = next((i for i, t in enumerate(tables) if isinstance(t, dict) and t.get("key") == original), None)
    if original is not None and index is None:
        raise Invalid([_problem("key", _("The process has no table %(key)s.", key=original))])
    old = tables[index] if index is not None else {"columns": [], "rows": []}
    errors: list[dict] = []
    if not KEY_PATTERN.match(settings.key):
        errors.append(
            _problem(
                "key", _("Use 2 to 80 characters: a lowercase letter, then lowercase letters, digits or _.")
            )
        )
    elif any(
        isinstance(t, dict) and t.get("key") == settings.key for i, t in enumerate(tables) if i != index
    ):
        errors.append(_problem("key", _("Another table already has this key.")))
    if original is not None and settings.key != original and _readers(spec, original):
        errors.append(
            _problem(
                "key",
                _("Rules look the table up by its key: %(uses)s.", uses="; ".join(_readers(spec, original))),
            )
        )
    if not settings.name_zh or not settings.name_en:
        errors.append(_problem("name_zh", _("Give the table's name in both languages.")))
    columns, rows = _columns_and_rows(old, settings, errors)
    if settings.key_column not in [column["name"] for column in columns]:
        errors.append(_problem("key_column", _("Choose the column whose values identify a row.")))
    if original is not None:
        errors += _still_looked_up(spec, original, old, settings)
    table = {
        "key": settings.key,
        "name": {"zh-CN": settings.name_zh, "en": settings.name_en},
        **({"description": old["description"]} if "description" in old else {}),
        "keyColumn": settings.key_column,
        "columns": columns,
        "rows": rows,
    }
    if errors:
        raise Invalid(errors)
    if index is None:
        tables.append(table)
        index = len(tables) - 1
    else:
        tables[index] = table
    problems = check(edited)
    if problems:
        raise Invalid([_at_input(problem, index, settings) for problem in problems])
    return edited


def _still_looked_up(spec: dict, original: str, old: dict, settings: TableSettings) -> list[dict]:
    """A column removed (put above the columns) or renamed (at its name) that is looked up."""
    problems = []
    kept = {row.old for row in settings.columns if row.old}
    for gone in [c.get("name") if isinstance(c, dict) else c for c in old.get("columns") or []]:
        readers = _readers(spec, original, gone) if gone not in kept else []
        if readers:
            message = _(
                "The column “%(column)s” is still looked up by: %(uses)s.",
                column=gone,
                uses="; ".join(readers),
            )
            problems.append(_problem("columns", message))
    for position, row in enumerate(settings.columns):
        readers = _readers(spec, original, row.old) if row.old and row.old != row.name else []
        if readers:
            message = _(
                "The column “%(column)s” is still looked up by: %(uses)s.",
                column=row.old,
                uses="; ".join(readers),
            )
            problems.append(_problem(f"columns-{position}-name", message))
    return problems


def _columns_and_rows(old: dict, settings: TableSettings, errors: list[dict]) -> tuple[list, list]:
    old_names = [c.get("name") if isinstance(c, dict) else c for c in old.get("columns") or []]
    old_rows = [row for row in old.get("rows") or [] if isinstance(row, list)]
    columns, sources, seen = [], [], set()
    for position, row in enumerate(settings.columns):
        at = f"columns-{position}-"
        if not row.name:
            errors.append(_problem(at + "name", _("A column needs a name.")))
        elif row.name in seen:
            errors.append(_problem(at + "name", _("Two columns have this name.")))
        seen.add(row.name)
        if row.type and row.type not in COLUMN_TYPES:
            errors.append(_problem(at + "type", _("Choose the column's type.")))
        column: dict[str, Any] = {"name": row.name}
        if row.type:
            column["type"] = row.type
        if row.title_zh or row.title_en:
            if not (row.title_zh and row.title_en):
                errors.append(_problem(at + "title_zh", _("Give the column's title in both languages.")))
            column["title"] = {"zh-CN": row.title_zh, "en": row.title_en}
        columns.append(column)
        if row.old in old_names:
            sources.append(old_names.index(row.old))
        else:
            value, problem = parse_cell(row.fill, row.type or None)
            if old_rows and not row.fill and row.type != "text":
                errors.append(_problem(at + "fill", _("Give the value the existing rows get.")))
            elif old_rows and problem:
                errors.append(_problem(at + "fill", problem))
            sources.append(("fill", value))
    rows = [
        [row[source] if isinstance(source, int) and source < len(row) else
         (source[1] if isinstance(source, tuple) else None) for source in sources]
        for row in old_rows
    ]  # fmt: skip
    return columns, rows


def without_table(spec: dict, key: str, check) -> dict:
    edited = copy.deepcopy(spec)
    tables = edited.get("tables") if isinstance(edited.get("tables"), list) else []
    kept = [t for t in tables if not (isinstance(t, dict) and t.get("key") == key)]
    if len(kept) == len(tables):
        raise Invalid([_problem("key", _("The process has no table %(key)s.", key=key))])
    readers = _readers(spec, key)
    if readers:
        raise Invalid(
            [_problem("remove", _("The table is still looked up by: %(uses)s.", uses="; ".join(readers)))]
        )
    if kept:
        edited["tables"] = kept
    else:
        edited.pop("tables")
    problems = check(edited)
    if problems:
        raise Invalid([_problem("remove", problem["message"]) for problem in problems])
    return edited


def _at_input(problem: dict, index: int, settings: TableSettings) -> dict:
    pointer = problem.get("pointer") or ""
    base = f"/tables/{index}"
    if not pointer.startswith(base):
        return problem
    parts = pointer[len(base) :].strip("/").split("/")
    if parts[0] == "columns" and len(parts) > 1 and parts[1].isdigit():
        return _problem(f"columns-{parts[1]}-{'type' if 'type' in parts else 'name'}", problem["message"])
    column = whole_number(parts[2]) if parts[0] == "rows" and len(parts) > 2 else None
    if column is not None and column < len(settings.columns):
        # a cell that does not fit: the new column's value, or an existing column's new type
        return _problem(
            f"columns-{column}-{'type' if settings.columns[column].old else 'fill'}", problem["message"]
        )
    if parts[0] in ("key", "keyColumn", "name"):
        return _problem(
            {"key": "key", "keyColumn": "key_column", "name": "name_zh"}[parts[0]], problem["message"]
        )
    return problem


def table_title(table: dict) -> str:
    return localized(table.get("name")) or table.get("key", "")
