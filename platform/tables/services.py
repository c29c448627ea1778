"""Editing global tables (a new version per change), their history, and finding a process
version's own table. Saving a process's table as a draft, who pins a global table and adopting
newer versions name process versions: formflow.processes.parameter_tables. Services flush; the
caller (request, CLI command, job) commits."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from formflow import audit
from formflow.auth.current import acting_user
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db
from formflow.tables.cells import (
    KEY_PATTERN,
    MAX_COLUMNS,
    cell_text,
    check_table,
    columns_of,
    key_column_of,
    normalized,
    spec_tables,
    table_sha256,
)
from formflow.tables.lookups import VersionOfProcess, _latest_versions
from formflow.tables.models import GlobalTable, GlobalTableVersion


def process_table(version: VersionOfProcess, table_key: str) -> tuple[int, dict]:
    """(index in `tables`, table) of a process version's table; NotFound when there is none."""
    for index, table in spec_tables(version.spec):
        if table["key"] == table_key:
            return index, table
    raise NotFound(_("Process %(key)s has no table %(table)s.", key=version.process.key, table=table_key))


# --- global tables -------------------------------------------------------------------------


def _flush_or_conflict() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict() from None


def get_global_table(key: str, *, lock: bool = False) -> GlobalTable:
    query = sa.select(GlobalTable).where(GlobalTable.key == key)
    if lock:
        query = query.with_for_update()
    found = db.session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(_("No parameter table with key %(key)s.", key=key))
    return found


def latest_global_version(table: GlobalTable) -> GlobalTableVersion:
    return db.session.execute(
        sa.select(GlobalTableVersion)
        .where(GlobalTableVersion.table_id == table.id)
        .order_by(GlobalTableVersion.number.desc())
        .limit(1)
    ).scalar_one()


def global_table_version(key: str, number: int) -> GlobalTableVersion:
    table = get_global_table(key)
    found = db.session.execute(
        sa.select(GlobalTableVersion).where(
            GlobalTableVersion.table_id == table.id, GlobalTableVersion.number == number
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("Table %(key)s has no version %(number)d.", key=key, number=number))
    return found


@dataclass(frozen=True)
class GlobalTableRow:
    table: GlobalTable
    latest_number: int
    rows: int


def global_tables_page(
    *, after_key: str | None = None, size: int = 50
) -> tuple[list[GlobalTableRow], str | None]:
    """Global tables by key (keyset-paginated), with their newest version number and row count."""
    query = sa.select(GlobalTable).order_by(GlobalTable.key).limit(size + 1)
    if after_key:
        query = query.where(GlobalTable.key > after_key)
    tables = list(db.session.execute(query).scalars())
    next_key = tables[size - 1].key if len(tables) > size else None
    tables = tables[:size]
    newest = _latest_versions([table.key for table in tables])
    rows = [
        GlobalTableRow(table, newest[table.key].number, len(newest[table.key].rows or []))
        for table in tables
        if table.key in newest
    ]
    return rows, next_key


def global_table_history(key: str) -> list[GlobalTableVersion]:
    table = get_global_table(key)
    return list(
        db.session.execute(
            sa.select(GlobalTableVersion)
            .where(GlobalTableVersion.table_id == table.id)
            .order_by(GlobalTableVersion.number.desc())
        ).scalars()
    )


def _checked_definition(
    key: str, names: Mapping[str, str], columns: list[dict], key_column: str
) -> list[dict]:
    errors = []
    if not KEY_PATTERN.match(key or ""):
        errors.append(
            {
                "pointer": "/key",
                "message": _(
                    "Use 2 to 80 characters: a lowercase letter first, then lowercase letters, digits or _."
                ),
            }
        )
    for locale in ("zh-CN", "en"):
        text = (names.get(locale) or "").strip()
        if not text:
            errors.append({"pointer": f"/name/{locale}", "message": _("Must not be empty.")})
        elif len(text) > 200:
            errors.append({"pointer": f"/name/{locale}", "message": _("At most %(n)d characters.", n=200)})
    if len(columns) > MAX_COLUMNS:
        errors.append({"pointer": "/columns", "message": _("At most %(n)d columns.", n=MAX_COLUMNS)})
    for index, column in enumerate(columns):
        if len(column.get("name") or "") > 80:
            errors.append(
                {"pointer": f"/columns/{index}/name", "message": _("At most %(n)d characters.", n=80)}
            )
        title = column.get("title")
        if title is not None and not (
            isinstance(title, Mapping)
            and set(title) <= {"zh-CN", "en"}
            and all(isinstance(text, str) and 0 < len(text) <= 80 for text in title.values())
        ):
            message = _('A column title is {"zh-CN": …, "en": …}, each 1 to 80 characters.')
            errors.append({"pointer": f"/columns/{index}/title", "message": message})
    errors.extend(check_table({"keyColumn": key_column, "columns": columns, "rows": []}))
    return errors


def create_global_table(
    key: str, names: Mapping[str, str], columns: list[dict], key_column: str, *, actor=None
) -> GlobalTableVersion:
    """A new global table (version 1, no rows yet). `columns`: `[{"name", "type", "title"}]`
    (the title `{"zh-CN", "en"}` is optional: without it people read the name).
    Invalid with pointers (`/key`, `/name/en`, `/columns/1/name`, `/keyColumn`)."""
    actor = actor if actor is not None else acting_user()
    key = (key or "").strip()
    columns = [
        {
            "name": (c.get("name") or "").strip(),
            **({"type": c["type"]} if c.get("type") is not None else {}),
            **({"title": c["title"]} if c.get("title") is not None else {}),
        }
        for c in columns
    ]
    errors = _checked_definition(key, names, columns, key_column)
    if not errors and db.session.execute(sa.select(GlobalTable.id).where(GlobalTable.key == key)).first():
        errors.append({"pointer": "/key", "message": _("There is already a table %(key)s.", key=key)})
    if errors:
        raise Invalid(errors)
    table = GlobalTable(
        key=key,
        name_zh=names["zh-CN"].strip(),
        name_en=names["en"].strip(),
        created_by_id=getattr(actor, "id", None),
    )
    first = GlobalTableVersion(table=table, number=1, key_column=key_column, columns=columns, rows=[])
    first.sha256 = table_sha256(first.as_table())
    first.created_by_id = getattr(actor, "id", None)
    db.session.add_all([table, first])
    _flush_or_conflict()
    audit.record(
        "global_table.create",
        "global_table",
        table.id,
        after={"key": key, "name_zh": table.name_zh, "name_en": table.name_en},
        actor=actor,
    )
    audit.record(
        "global_table_version.create", "global_table_version", first.id, after=_snapshot(first), actor=actor
    )
    return first


def _snapshot(found: GlobalTableVersion) -> dict:
    return {
        "key": found.table.key,
        "number": found.number,
        "sha256": found.sha256,
        "keyColumn": found.key_column,
        "columns": found.columns,
        "rows": found.rows,
    }


def save_global_table(
    key: str, rows: list[list], *, expected_number: int, actor=None
) -> tuple[GlobalTableVersion, bool]:
    """New rows for a global table: a new version (the old ones stay, pinned processes keep
    reading theirs). (version, created); an unchanged table adds no version. Conflict when
    the newest version is no longer `expected_number`; Invalid (`/rows/2/1`) when bad."""
    actor = actor if actor is not None else acting_user()
    table = get_global_table(key, lock=True)
    latest = latest_global_version(table)
    if latest.number != expected_number:
        raise Conflict(
            _(
                "Table %(key)s was changed meanwhile (now version %(number)d); reload it.",
                key=key,
                number=latest.number,
            )
        )
    candidate = {"keyColumn": latest.key_column, "columns": latest.columns, "rows": rows}
    errors = check_table(candidate)
    if errors:
        raise Invalid(errors)
    sha256 = table_sha256(candidate)
    if sha256 == latest.sha256:
        return latest, False
    created = GlobalTableVersion(
        table=table,
        number=latest.number + 1,
        key_column=latest.key_column,
        columns=copy.deepcopy(latest.columns),
        rows=copy.deepcopy(rows),
        sha256=sha256,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(created)
    _flush_or_conflict()
    audit.record(
        "global_table_version.create",
        "global_table_version",
        created.id,
        before=_snapshot(latest),
        after=_snapshot(created) | {"changes": table_changes(latest.as_table(), created.as_table())},
        actor=actor,
    )
    return created, True


def table_changes(old: Mapping, new: Mapping) -> list[str]:
    """What changed between two states of a table, row by key: "B · dual_approval_above: 10000 → 8000"."""
    columns = columns_of(new)
    key_column = key_column_of(new)
    names = [column.name for column in columns]
    if (
        [c.name for c in columns_of(old)] != names
        or key_column_of(old) != key_column
        or key_column not in names
    ):
        return [_("The columns changed.")]
    key_index = names.index(key_column)
    kinds = [column.type for column in columns]

    def by_key(table: Mapping) -> dict:
        return {
            cell_text(row[key_index], kinds[key_index]): row
            for row in normalized(table)["rows"]
            if len(row) > key_index
        }

    before, after = by_key(old), by_key(new)
    changes = []
    for key, row in after.items():
        if key not in before:
            changes.append(_("Row %(key)s added.", key=key))
            continue
        for index, (was, now) in enumerate(zip(before[key], row, strict=False)):
            was_text, now_text = cell_text(was, kinds[index]), cell_text(now, kinds[index])
            if was_text != now_text:
                changes.append(f"{key} · {names[index]}: {was_text or '—'} → {now_text or '—'}")
    changes.extend(_("Row %(key)s removed.", key=key) for key in before if key not in after)
    if not changes and list(before) != list(after):
        changes.append(_("The rows were reordered."))
    return changes
