"""Parameter table content: typed columns, a unique key column, cells of the right type, rows
as long as the columns; `check_tables(spec)` / `check_table(table)` give problems as
`{"pointer", "message"}`; cells as text for the grid and back (`cell_text`, `parse_cell`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from formflow.canonical import canonical_sha256
from formflow.tables.models import GlobalTableVersion

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
    """The hash of a table's content, in the canonical form process specs are hashed in."""
    return canonical_sha256(table_content(table))


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
