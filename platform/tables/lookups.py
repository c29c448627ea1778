"""What rules may `lookup`: `tables_for(spec)` / `tables_for_version(version)` as
`{name: {"keyColumn", "columns": [names], "rows"}}`; a process table shadows a global one of
the same key. A published (or retired) version reads the global table versions pinned when
it was published (`pin_global_tables`), so its cases keep their values."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from flask import has_app_context

from formflow import audit
from formflow.auth.current import acting_user
from formflow.extensions import db
from formflow.tables.cells import _as_table, columns_of, key_column_of, normalized, spec_tables
from formflow.tables.models import GlobalTable, GlobalTableVersion, ProcessTablePin


class VersionOfProcess(Protocol):
    """What tables read of a process version (formflow.processes.models.ProcessVersion, a
    layer above: passed in, never imported)."""

    id: int | None
    number: int
    status: str
    spec: Any
    process: Any  # .key


# --- what rules may look up ----------------------------------------------------------------


def _lookups(node: Any) -> Iterator[Any]:
    """The first argument of every `lookup` in a rule or workflow (iteratively: specs may nest)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if len(item) == 1 and "lookup" in item:
                arguments = item["lookup"]
                yield arguments[0] if isinstance(arguments, list) and arguments else None
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def referenced_tables(spec: Any) -> set[str] | None:
    """The table names the spec's rules, workflow and screening look up; None when one is computed
    (then any table may be read)."""
    if not isinstance(spec, Mapping):
        return set()
    names: set[str] = set()
    for table in _lookups([spec.get("rules"), spec.get("workflow"), spec.get("screening")]):
        if not isinstance(table, str):
            return None
        names.add(table)
    return names


def _latest_versions(keys: Iterable[str] | None = None) -> dict[str, GlobalTableVersion]:
    """The newest version of each global table (of `keys`, or of all)."""
    newest = sa.select(
        GlobalTableVersion.table_id, sa.func.max(GlobalTableVersion.number).label("number")
    ).group_by(GlobalTableVersion.table_id)
    if keys is not None:
        keys = list(keys)
        if not keys:
            return {}
        newest = newest.where(
            GlobalTableVersion.table_id.in_(sa.select(GlobalTable.id).where(GlobalTable.key.in_(keys)))
        )
    newest = newest.subquery()
    query = sa.select(GlobalTableVersion).join(
        newest,
        sa.and_(
            GlobalTableVersion.table_id == newest.c.table_id, GlobalTableVersion.number == newest.c.number
        ),
    )
    return {found.table.key: found for found in db.session.execute(query).scalars()}


#: True inside `without_global_tables()`: there is no database to read global tables from.
_NO_GLOBAL_TABLES: ContextVar[bool] = ContextVar("no_global_tables", default=False)


@contextlib.contextmanager
def without_global_tables() -> Iterator[None]:
    """Check specs as if there were no global tables (`formflow check` with no database)."""
    token = _NO_GLOBAL_TABLES.set(True)
    try:
        yield
    finally:
        _NO_GLOBAL_TABLES.reset(token)


def current_global_tables() -> dict[str, GlobalTableVersion]:
    """Every global table at its newest version (what a draft reads)."""
    return _latest_versions() if has_app_context() and not _NO_GLOBAL_TABLES.get() else {}


def tables_for(spec: Any, *, global_tables: Mapping[str, Any] | None = None) -> dict[str, dict]:
    """Every table a rule of `spec` may `lookup`: `global_tables` (name -> a table or a
    GlobalTableVersion; by default every global table at its newest version), then the
    spec's own tables, which shadow global ones of the same key."""
    if global_tables is None:
        global_tables = current_global_tables()
    found = {key: normalized(_as_table(table)) for key, table in global_tables.items()}
    for _index, table in spec_tables(spec):
        found[table["key"]] = normalized(table)
    return found


@dataclass(frozen=True)
class TableLabels:
    """What people read for a table and its columns: titles, else the keys."""

    key: str
    title: str
    columns: Mapping[str, str] = field(default_factory=dict)

    def column(self, name: str) -> str:
        return self.columns.get(name) or name


def table_labels(spec: Any, *, global_tables: Mapping[str, Any] | None = None) -> dict[str, TableLabels]:
    """The labels of every table `spec` may `lookup` (as `tables_for`), in the user's language."""
    from formflow.forms.texts import localized, spec_language

    locale = "en" if spec_language() == "en" else "zh_Hans_CN"
    if global_tables is None:
        global_tables = current_global_tables()
    found = {}
    for key, table in global_tables.items():
        title = table.table.name(locale) if isinstance(table, GlobalTableVersion) else ""
        found[key] = _labels(key, title, _as_table(table), locale)
    for _index, table in spec_tables(spec):
        found[table["key"]] = _labels(table["key"], localized(table.get("name")), table, locale)
    return found


def _labels(key: str, title: str, table: Mapping, locale: str) -> TableLabels:
    columns = {column.name: column.label(locale) for column in columns_of(table)}
    return TableLabels(key, title or key, columns)


def pinned_versions(version: VersionOfProcess) -> dict[str, GlobalTableVersion]:
    """The global table versions a process version pinned when it was published."""
    if version.id is None:
        return {}
    pins = db.session.execute(
        sa.select(ProcessTablePin).where(ProcessTablePin.process_version_id == version.id)
    ).scalars()
    return {pin.table_version.table.key: pin.table_version for pin in pins}


def tables_for_version(version: VersionOfProcess) -> dict[str, dict]:
    """The tables a process version's rules read at run time: a draft reads the newest
    global tables; a published or retired version the ones pinned when it was published
    (a table it reads but never pinned, e.g. published before pinning existed: the newest)."""
    if version.status == "draft":
        return tables_for(version.spec)
    pinned = pinned_versions(version)
    referenced = referenced_tables(version.spec)
    own = {table["key"] for _index, table in spec_tables(version.spec)}
    wanted = None if referenced is None else referenced - own - set(pinned)
    newest = _latest_versions(wanted) if wanted is None or wanted else {}
    return tables_for(version.spec, global_tables={**newest, **pinned})


def pin_global_tables(version: VersionOfProcess, *, actor=None) -> dict[str, int]:
    """Pin, for a version being published, the newest version of each global table its
    rules read (every global table when a rule computes the table's name). A version that
    was published before keeps its pins. Returns {table key: version number}."""
    pinned = pinned_versions(version)
    if pinned:
        return {key: found.number for key, found in pinned.items()}
    referenced = referenced_tables(version.spec)
    own = {table["key"] for _index, table in spec_tables(version.spec)}
    newest = _latest_versions(None if referenced is None else referenced - own)
    chosen = {key: found for key, found in newest.items() if key not in own}
    for found in chosen.values():
        db.session.add(
            ProcessTablePin(process_version_id=version.id, table_id=found.table_id, table_version_id=found.id)
        )
    if chosen:
        db.session.flush()
        numbers = {key: found.number for key, found in sorted(chosen.items())}
        audit.record(
            "process_version.pin_tables",
            "process_version",
            version.id,
            after={"key": version.process.key, "number": version.number, "tables": numbers},
            actor=actor if actor is not None else acting_user(),
        )
    return {key: found.number for key, found in chosen.items()}


# --- process tables ------------------------------------------------------------------------


def tier_value(table_key: str, column: str, tier: str) -> Any:
    """The cell of `column` in the row of `tier` of the current global table `table_key` (keyed
    by tier); None when there is no such table, column or row."""
    version = current_global_tables().get(table_key)
    if version is None:
        return None
    table = version.as_table()
    names = [item.name for item in columns_of(table)]
    key = key_column_of(table)
    if column not in names or key not in names:
        return None
    at, wanted = names.index(key), names.index(column)
    for row in table.get("rows") or []:
        if row[at] == tier:
            return row[wanted]
    return None
