"""Parameter tables: a process's own (`tables` in its spec) and global ones shared by all
processes (GlobalTable, versioned). The only door to them.

- `tables_for(spec)` / `tables_for_version(version)`: what a rule may `lookup`, as
  `{name: {"keyColumn", "columns": [names], "rows"}}`; a process table shadows a global one
  of the same key. A published (or retired) version reads the global table versions pinned
  when it was published (`pin_global_tables`), so its cases keep their values.
- `check_tables(spec)` / `check_table(table)`: typed columns, a unique key column, cells of
  the right type, rows as long as the columns; problems as `{"pointer", "message"}`.
- The editing grid (`Grid`): text per cell in, typed rows out, problems placed on cells.
- Global tables: create, save (a new version per change), history, who pins what.

Services flush; the caller (request, CLI command, job) commits.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import has_app_context
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from formflow import audit
from formflow.auth.current import acting_user
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db
from formflow.forms.pointers import split
from formflow.processes.models import Process, ProcessVersion
from formflow.rules.models import GlobalTable, GlobalTableVersion, ProcessTablePin

COLUMN_TYPES = ("money", "integer", "text", "boolean")
#: The pattern of table keys (as of process keys: spec.schema.json uses the same).
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,79}$")
#: Rows one grid may hold: far above a parameter table, low enough to refuse a flood.
MAX_ROWS = 1000
MAX_COLUMNS = 40
_CENT_EXPONENT = -2


@dataclass(frozen=True)
class Column:
    name: str
    #: one of COLUMN_TYPES, or None for a column given by name only (untyped)
    type: str | None = None
    #: {"zh-CN", "en"} shown above the column, when given
    title: Mapping[str, str] | None = None

    def label(self, locale: str) -> str:
        return _text_of(self.title, locale) or self.name


def _text_of(names: Mapping[str, str] | None, locale: str) -> str:
    return (names or {}).get("en" if locale == "en" else "zh-CN") or ""


# --- shape ---------------------------------------------------------------------------------


def columns_of(table: Mapping) -> list[Column]:
    """The table's columns; a plain name is an untyped column, anything unreadable is skipped."""
    found = []
    for column in table.get("columns") or []:
        if isinstance(column, str):
            found.append(Column(column))
        elif isinstance(column, Mapping) and isinstance(column.get("name"), str):
            kind = column.get("type")
            title = column.get("title") if isinstance(column.get("title"), Mapping) else None
            found.append(Column(column["name"], kind if kind in COLUMN_TYPES else None, title))
    return found


def key_column_of(table: Mapping) -> str:
    """The key column's name: `keyColumn`, else the first column."""
    if isinstance(table.get("keyColumn"), str):
        return table["keyColumn"]
    columns = columns_of(table)
    return columns[0].name if columns else ""


def normalized(table: Mapping) -> dict:
    """What the `lookup` operator reads: `{"keyColumn", "columns": [names], "rows"}`, and
    `"types": {column: type}` of the typed columns (a money cell shows as money)."""
    rows = table.get("rows")
    columns = columns_of(table)
    found = {
        "keyColumn": key_column_of(table),
        "columns": [column.name for column in columns],
        "rows": [row for row in rows if isinstance(row, list)] if isinstance(rows, list) else [],
    }
    types = {column.name: column.type for column in columns if column.type}
    return {**found, "types": types} if types else found


def _as_table(value: Any) -> Mapping:
    return value.as_table() if isinstance(value, GlobalTableVersion) else value


def spec_tables(spec: Any) -> list[tuple[int, dict]]:
    """(index, table) of the spec's own tables that have a key."""
    tables = spec.get("tables") if isinstance(spec, Mapping) else None
    if not isinstance(tables, list):
        return []
    return [
        (index, table)
        for index, table in enumerate(tables)
        if isinstance(table, dict) and isinstance(table.get("key"), str)
    ]


def table_content(table: Mapping) -> dict:
    """The part of a table that its hash covers."""
    return {"keyColumn": key_column_of(table), "columns": table.get("columns"), "rows": table.get("rows")}


def table_sha256(table: Mapping) -> str:
    from formflow.processes.spec import spec_sha256

    return spec_sha256(table_content(table))


# --- checking ------------------------------------------------------------------------------


def check_tables(spec: Any, *, already: Iterable[dict] = ()) -> list[dict]:
    """Problems in the spec's `tables`, pointers into the spec (`/tables/0/rows/3/0`).

    Covers what the meta-schema cannot say: column types, the key column, unique keys,
    cell types, row lengths and duplicate table keys. Parts whose shape is wrong are
    skipped (the meta-schema reports those); so are pointers `already` has a problem at."""
    errors: list[dict] = []
    reported = {error.get("pointer") for error in already}
    first_index: dict[str, int] = {}
    for index, table in spec_tables(spec):
        key = table["key"]
        if key in first_index:
            errors.append(
                {
                    "pointer": f"/tables/{index}/key",
                    "message": _(
                        "Table %(number)d already has the key “%(key)s”.",
                        number=first_index[key],
                        key=key,
                    ),
                }
            )
        else:
            first_index[key] = index
        errors.extend(
            {"pointer": f"/tables/{index}{error['pointer']}", "message": error["message"]}
            for error in check_table(table)
        )
    return [error for error in errors if error["pointer"] not in reported]


def check_table(table: Mapping) -> list[dict]:
    """Problems in one table; pointers relative to it (`/rows/2/1`, `/columns/1/type`)."""
    errors: list[dict] = []
    raw_columns = table.get("columns")
    if not isinstance(raw_columns, list):
        return errors
    if not raw_columns:
        errors.append({"pointer": "/columns", "message": _("A table needs at least one column.")})
        return errors
    columns: list[Column | None] = []
    seen: set[str] = set()
    for index, column in enumerate(raw_columns):
        name = column if isinstance(column, str) else column.get("name") if isinstance(column, dict) else None
        if not isinstance(name, str):
            columns.append(None)
            continue
        where = f"/columns/{index}" if isinstance(column, str) else f"/columns/{index}/name"
        if not name.strip():
            errors.append({"pointer": where, "message": _("A column needs a name.")})
        elif name in seen:
            errors.append(
                {"pointer": where, "message": _("There is already a column “%(name)s”.", name=name)}
            )
        seen.add(name)
        kind = column.get("type") if isinstance(column, dict) else None
        if isinstance(column, dict) and "type" in column and kind not in COLUMN_TYPES:
            errors.append(
                {
                    "pointer": f"/columns/{index}/type",
                    "message": _(
                        "Unknown column type “%(type)s”; use one of: %(types)s.",
                        type=kind,
                        types=", ".join(COLUMN_TYPES),
                    ),
                }
            )
            kind = None
        columns.append(Column(name, kind))
    names = [column.name if column else None for column in columns]
    key_column = key_column_of(table)
    key_index = names.index(key_column) if key_column in names else None
    if key_index is None:
        errors.append(
            {
                "pointer": "/keyColumn",
                "message": _(
                    "The key column “%(name)s” is not one of the columns (%(columns)s).",
                    name=key_column,
                    columns=", ".join(name for name in names if name),
                ),
            }
        )
    rows = table.get("rows")
    if not isinstance(rows, list):
        return errors
    first_row_of: dict[Any, int] = {}
    for row_index, row in enumerate(rows):
        if not isinstance(row, list):
            continue
        if len(row) != len(columns):
            errors.append(
                {
                    "pointer": f"/rows/{row_index}",
                    "message": _(
                        "This row has %(cells)d cells; the table has %(columns)d columns.",
                        cells=len(row),
                        columns=len(columns),
                    ),
                }
            )
        for column_index, (cell, column) in enumerate(zip(row, columns, strict=False)):
            if column is None:
                continue
            problem = cell_problem(cell, column.type, is_key=column_index == key_index)
            if not problem and column_index == key_index:
                problem = _repeated_key(cell, row_index, first_row_of, column.type)
            if problem:
                errors.append({"pointer": f"/rows/{row_index}/{column_index}", "message": problem})
    return errors


def _repeated_key(cell: Any, row_index: int, first_row_of: dict, kind: str | None) -> str | None:
    """A message when `cell` is a key an earlier row has (and remember it otherwise)."""
    key = _key_identity(cell)
    if key is None:
        return None
    if key not in first_row_of:
        first_row_of[key] = row_index
        return None
    return _(
        "The key “%(key)s” is already in row %(row)d; keys must be unique.",
        key=cell_text(cell, kind),
        row=first_row_of[key] + 1,
    )


def _key_identity(cell: Any) -> Any:
    """What makes two keys the same for `lookup` (2 and 2.0 are; true and 1 are not)."""
    if isinstance(cell, bool):
        return ("boolean", cell)
    if isinstance(cell, int | float | Decimal):
        return ("number", Decimal(str(cell)))
    if isinstance(cell, str):
        return ("text", cell)
    return None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return number if number.is_finite() else None


def cell_problem(value: Any, kind: str | None, *, is_key: bool = False) -> str | None:
    """Why `value` cannot be a cell of a `kind` column; None when it can."""
    if is_key and (value is None or value == ""):
        return _("The key must not be empty.")
    if isinstance(value, dict | list):
        return _("A cell holds one value, not a list or an object.")
    if kind is None:
        return None
    if value is None:
        return _("A value is required.")
    if kind == "money":
        number = _decimal(value)
        if number is None or number.as_tuple().exponent < _CENT_EXPONENT:
            return _("Not an amount: a number with at most 2 decimal places.")
    elif kind == "integer":
        number = _decimal(value)
        if number is None or number != number.to_integral_value():
            return _("Not a whole number.")
    elif kind == "text":
        if not isinstance(value, str):
            return _("Not a text.")
    elif kind == "boolean" and not isinstance(value, bool):
        return _("Not true or false.")
    return None


# --- text in a grid cell -------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "yes", "1", "是", "真"}
_FALSE = {"false", "no", "0", "否", "假"}


def cell_text(value: Any, kind: str | None) -> str:
    """A cell as the text of its input: amounts with two places, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "money":
        number = _decimal(value)
        if number is not None and number.as_tuple().exponent >= _CENT_EXPONENT:
            return f"{number:.2f}"
    if isinstance(value, float):
        number = Decimal(repr(value))
        return (
            str(int(number)) if number == number.to_integral_value() and abs(number) < 10**15 else repr(value)
        )
    return str(value)


def _number(text: str) -> int | float | None:
    """A typed number as JSON would hold it: whole numbers as int, others as float."""
    plain = text.replace(",", "").replace("，", "").replace(" ", "")
    if not _NUMBER.match(plain):
        return None
    try:
        number = Decimal(plain)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
        return None
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def parse_cell(text: str, kind: str | None, *, is_key: bool = False) -> tuple[Any, str | None]:
    """What an admin typed into a cell as the cell's value, or (None, why not)."""
    text = (text or "").strip()
    if kind == "text":
        value: Any = text
    elif text == "":
        value = None
    elif kind in ("money", "integer"):
        value = _number(text)
        if value is None:
            message = (
                _("Not an amount: a number with at most 2 decimal places.")
                if kind == "money"
                else _("Not a whole number.")
            )
            return None, message
    elif kind == "boolean":
        lowered = text.lower()
        if lowered not in _TRUE | _FALSE:
            return None, _("Not true or false.")
        value = lowered in _TRUE
    else:  # untyped: a number, true/false, else text
        lowered = text.lower()
        number = _number(text)
        value = (
            number if number is not None else (lowered == "true" if lowered in ("true", "false") else text)
        )
    return value, cell_problem(value, kind, is_key=is_key)


def _same_cell(parsed: Any, original: Any) -> bool:
    """Unchanged (so the stored value, e.g. 50000.0, is kept as it was written)."""
    if isinstance(parsed, bool) or isinstance(original, bool):
        return type(parsed) is type(original) and parsed == original
    numbers = (int, float)
    if isinstance(parsed, numbers) != isinstance(original, numbers):
        return False
    return parsed == original


# --- the editing grid ----------------------------------------------------------------------


@dataclass
class GridColumn:
    column: Column
    is_key: bool

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def type(self) -> str | None:
        return self.column.type


@dataclass
class Grid:
    """A table as rows of input texts, with the problems placed on their cells."""

    columns: list[GridColumn]
    cells: list[list[str]]
    #: (row, column) -> message
    cell_errors: dict[tuple[int, int], str] = field(default_factory=dict)
    row_errors: dict[int, str] = field(default_factory=dict)
    #: problems not on a cell (pointer, message)
    errors: list[dict] = field(default_factory=list)
    original_rows: list = field(default_factory=list)

    @classmethod
    def from_table(cls, table: Mapping) -> Grid:
        key_column = key_column_of(table)
        columns = [GridColumn(column, column.name == key_column) for column in columns_of(table)]
        rows = normalized(table)["rows"]
        cells = [
            [
                cell_text(row[index] if index < len(row) else None, column.type)
                for index, column in enumerate(columns)
            ]
            for row in rows
        ]
        return cls(columns, cells, original_rows=copy.deepcopy(rows))

    @classmethod
    def from_form(cls, table: Mapping, form: Mapping[str, str]) -> Grid:
        """The grid as posted: `row_count` rows of `cell-<row>-<column>` inputs."""
        grid = cls.from_table(table)
        try:
            count = int(form.get("row_count", ""))
        except ValueError:
            count = len(grid.cells)
        if count > MAX_ROWS:
            grid.errors.append({"pointer": "/rows", "message": _("At most %(n)d rows.", n=MAX_ROWS)})
        count = max(0, min(count, MAX_ROWS))
        grid.cells = [
            [str(form.get(f"cell-{row}-{column}", "")) for column in range(len(grid.columns))]
            for row in range(count)
        ]
        return grid

    @property
    def has_errors(self) -> bool:
        return bool(self.cell_errors or self.row_errors or self.errors)

    def add_row(self) -> None:
        if len(self.cells) >= MAX_ROWS:
            self.errors.append({"pointer": "/rows", "message": _("At most %(n)d rows.", n=MAX_ROWS)})
            return
        self.cells.append(["" for _column in self.columns])

    def remove_row(self, index: int) -> None:
        if 0 <= index < len(self.cells):
            del self.cells[index]

    def run(self, command: str) -> bool:
        """Add or remove a row (`add`, `remove-3`); True when the command was one of those."""
        if command == "add":
            self.add_row()
            return True
        if command.startswith("remove-") and command[7:].isdigit():
            self.remove_row(int(command[7:]))
            return True
        return False

    def rows(self) -> list[list] | None:
        """The typed rows, or None with the problems on their cells (a repeated key too, even
        beside a cell that could not be read). A cell that equals the stored one keeps the
        stored value exactly (50000.0 stays 50000.0)."""
        rows = []
        for row_index, texts in enumerate(self.cells):
            row = []
            for column_index, (text, column) in enumerate(zip(texts, self.columns, strict=True)):
                value, problem = parse_cell(text, column.type, is_key=column.is_key)
                if problem:
                    self.cell_errors[(row_index, column_index)] = problem
                original = self._original(row_index, column_index)
                row.append(original if _same_cell(value, original) else value)
            rows.append(row)
        table = {
            "keyColumn": next((c.name for c in self.columns if c.is_key), ""),
            "columns": [{"name": c.name, "type": c.type} if c.type else c.name for c in self.columns],
            "rows": rows,
        }
        self.place(check_table(table))
        return None if self.has_errors else rows

    def _original(self, row: int, column: int) -> Any:
        if row < len(self.original_rows) and column < len(self.original_rows[row]):
            return self.original_rows[row][column]
        return _MISSING

    def place(self, errors: Iterable[dict], prefix: str = "") -> None:
        """Put each problem on its cell (`<prefix>/rows/2/1`), its row (`<prefix>/rows/2`),
        or among the others. `prefix` is where the table is (`/tables/0` in a spec)."""
        for error in errors:
            pointer = error.get("pointer", "")
            tokens = split(pointer[len(prefix) :]) if pointer.startswith(prefix + "/") else []
            numbers = [token for token in tokens[1:] if token.isascii() and token.isdigit()]
            if tokens[:1] == ["rows"] and len(tokens) in (2, 3) and len(numbers) == len(tokens) - 1:
                if len(tokens) == 3:
                    self.cell_errors.setdefault((int(tokens[1]), int(tokens[2])), error["message"])
                else:
                    self.row_errors.setdefault(int(tokens[1]), error["message"])
            else:
                self.errors.append(error)

    def input_name(self, row: int, column: int) -> str:
        return f"cell-{row}-{column}"


_MISSING = object()


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
    """The table names the spec's rules and workflow look up; None when one is computed
    (then any table may be read)."""
    if not isinstance(spec, Mapping):
        return set()
    names: set[str] = set()
    for table in _lookups([spec.get("rules"), spec.get("workflow")]):
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


def current_global_tables() -> dict[str, GlobalTableVersion]:
    """Every global table at its newest version (what a draft reads)."""
    return _latest_versions() if has_app_context() else {}


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


def pinned_versions(version: ProcessVersion) -> dict[str, GlobalTableVersion]:
    """The global table versions a process version pinned when it was published."""
    if version.id is None:
        return {}
    pins = db.session.execute(
        sa.select(ProcessTablePin).where(ProcessTablePin.process_version_id == version.id)
    ).scalars()
    return {pin.table_version.table.key: pin.table_version for pin in pins}


def tables_for_version(version: ProcessVersion) -> dict[str, dict]:
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


def pin_global_tables(version: ProcessVersion, *, actor=None) -> dict[str, int]:
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


def process_table(version: ProcessVersion, table_key: str) -> tuple[int, dict]:
    """(index in `tables`, table) of a process version's table; NotFound when there is none."""
    for index, table in spec_tables(version.spec):
        if table["key"] == table_key:
            return index, table
    raise NotFound(_("Process %(key)s has no table %(table)s.", key=version.process.key, table=table_key))


def save_process_table(key: str, table_key: str, rows: list[list], *, base_sha256: str, actor=None):
    """Store new rows for a process table as a draft (the latest draft is replaced, a
    published version is never changed: see processes.services.new_draft_from_edit).

    `base_sha256` is the version the editor started from: another change since is a
    Conflict. Invalid (pointers into the spec, `/tables/0/rows/2/1`) when the result is bad."""
    from formflow.processes import services as processes

    latest = processes.latest_version(key)
    if latest.sha256 != base_sha256:
        message = _(
            "The process was changed meanwhile (now version %(number)d); reload the table.",
            number=latest.number,
        )
        raise Conflict(message)
    index, _table = process_table(latest, table_key)
    spec = copy.deepcopy(latest.spec)
    spec["tables"][index]["rows"] = rows
    return processes.new_draft_from_edit(key, spec, actor=actor if actor is not None else acting_user())


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


@dataclass(frozen=True)
class TableUse:
    """A process version that reads a global table, and which version of it."""

    process: Process
    version: ProcessVersion
    table_number: int | None  # None: not pinned (a draft reads the newest)


def table_uses(key: str) -> list[TableUse]:
    """The published and draft process versions that read global table `key`."""
    table = get_global_table(key)
    pins = {
        pin.process_version_id: pin.table_version.number
        for pin in db.session.execute(
            sa.select(ProcessTablePin).where(ProcessTablePin.table_id == table.id)
        ).scalars()
    }
    versions = db.session.execute(
        sa.select(ProcessVersion)
        .where(ProcessVersion.status.in_(("published", "draft")))
        .order_by(ProcessVersion.process_id, ProcessVersion.number)
    ).scalars()
    uses = []
    for found in versions:
        referenced = referenced_tables(found.spec)
        own = {t["key"] for _i, t in spec_tables(found.spec)}
        reads = found.id in pins or ((referenced is None or key in referenced) and key not in own)
        if reads:
            number = pins.get(found.id)
            uses.append(TableUse(found.process, found, number))
    return uses


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
    errors.extend(check_table({"keyColumn": key_column, "columns": columns, "rows": []}))
    return errors


def create_global_table(
    key: str, names: Mapping[str, str], columns: list[dict], key_column: str, *, actor=None
) -> GlobalTableVersion:
    """A new global table (version 1, no rows yet). `columns`: `[{"name", "type"}]`.
    Invalid with pointers (`/key`, `/name/en`, `/columns/1/name`, `/keyColumn`)."""
    actor = actor if actor is not None else acting_user()
    key = (key or "").strip()
    columns = [
        {"name": (c.get("name") or "").strip(), **({"type": c["type"]} if c.get("type") is not None else {})}
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


def adopt_global_tables(process_key: str, *, actor=None) -> ProcessVersion:
    """A draft of `process_key` that reads the newest global tables: the latest draft when
    there is one, else a new draft with the published spec unchanged (publishing it pins
    the newest global table versions)."""
    from formflow.processes import services as processes

    actor = actor if actor is not None else acting_user()
    latest = processes.latest_version(process_key)
    if latest.status == "draft":
        return latest
    created = ProcessVersion(
        process=latest.process,
        number=latest.number + 1,
        spec=copy.deepcopy(latest.spec),
        sha256=latest.sha256,
        status="draft",
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(created)
    _flush_or_conflict()
    audit.record(
        "process_version.create",
        "process_version",
        created.id,
        after={
            "key": process_key,
            "number": created.number,
            "status": created.status,
            "sha256": created.sha256,
            "changes": [_("The same spec, reading the newest global tables.")],
        },
        actor=actor,
    )
    return created


# --- posted forms --------------------------------------------------------------------------


def edit_grid(table: Mapping, form: Mapping[str, str]) -> tuple[Grid, list[list] | None]:
    """A posted grid: (grid, rows to save). Rows are None when the post added or removed a
    row (show the grid again, nothing saved) or when a cell is wrong (problems on the grid)."""
    grid = Grid.from_form(table, form)
    if grid.run(str(form.get("command") or "save")) or grid.errors:
        return grid, None
    return grid, grid.rows()


@dataclass
class TableDefinition:
    """The new-table form: key, names and columns (name, type; one of them the key)."""

    key: str = ""
    names: dict = field(default_factory=lambda: {"zh-CN": "", "en": ""})
    columns: list[dict] = field(default_factory=lambda: [{"name": "", "type": "text"}])
    key_index: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> TableDefinition:
        try:
            count = max(1, min(int(form.get("column_count", "1")), MAX_COLUMNS))
        except ValueError:
            count = 1
        try:
            key_index = int(form.get("key_column", "0"))
        except ValueError:
            key_index = 0
        return cls(
            key=str(form.get("key", "")).strip(),
            names={"zh-CN": str(form.get("name_zh", "")), "en": str(form.get("name_en", ""))},
            columns=[
                {
                    "name": str(form.get(f"column-{i}-name", "")).strip(),
                    "type": str(form.get(f"column-{i}-type", "")),
                }
                for i in range(count)
            ],
            key_index=key_index if 0 <= key_index < count else 0,
        )

    @property
    def key_column(self) -> str:
        return self.columns[self.key_index]["name"] if self.columns else ""

    def run(self, command: str) -> bool:
        """Add or remove a column (`add-column`, `remove-column-2`); True when it was one."""
        if command == "add-column":
            if len(self.columns) < MAX_COLUMNS:
                self.columns.append({"name": "", "type": "text"})
            return True
        if command.startswith("remove-column-") and command[14:].isdigit():
            index = int(command[14:])
            if 0 <= index < len(self.columns) and len(self.columns) > 1:
                del self.columns[index]
                if self.key_index >= index and self.key_index > 0:
                    self.key_index -= 1
            return True
        return False

    def create(self, *, actor=None) -> GlobalTableVersion | None:
        """The table, or None with the problems in `errors` (pointer -> message)."""
        for index, column in enumerate(self.columns):
            if not column["name"]:
                self.errors[f"/columns/{index}/name"] = _("A column needs a name.")
        if self.errors:
            return None
        try:
            return create_global_table(self.key, self.names, self.columns, self.key_column, actor=actor)
        except Invalid as invalid:
            for error in invalid.errors:
                pointer = (
                    f"/columns/{self.key_index}/name"
                    if error["pointer"] == "/keyColumn"
                    else error["pointer"]
                )
                self.errors.setdefault(pointer, error["message"])
            return None
