"""The editing grid (`Grid`): text per cell in, typed rows out, problems placed on cells;
and the new-table form (`TableDefinition`)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from formflow.errors import Invalid
from formflow.forms.pointers import split
from formflow.tables.cells import (
    MAX_COLUMNS,
    MAX_ROWS,
    Column,
    _same_cell,
    cell_text,
    check_table,
    columns_of,
    key_column_of,
    normalized,
    parse_cell,
)
from formflow.tables.models import GlobalTableVersion
from formflow.tables.services import create_global_table

_MISSING = object()


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

    def paste(self, text: str) -> None:
        """Rows copied from Excel or another spreadsheet (tab-separated, a row per line): a row
        whose key is already in the grid replaces that row, the others are added; a first line
        naming the columns (by name or title) is left out; blank rows of the grid make room."""
        lines = [line for line in (text or "").splitlines() if line.strip()]
        if lines and self._is_header(lines[0].split("\t")):
            lines = lines[1:]
        if not lines:
            self.errors.append(
                {"pointer": "/rows", "message": _("Nothing to paste: copy rows from a spreadsheet.")}
            )
            return
        width = len(self.columns)
        for number, line in enumerate(lines, start=1):
            if len(line.split("\t")) > width:
                message = _(
                    "Line %(line)d of the pasted text has %(cells)d cells; "
                    "the table has %(columns)d columns.",
                    line=number,
                    cells=len(line.split("\t")),
                    columns=width,
                )
                self.errors.append({"pointer": "/rows", "message": message})
                return
        self.cells = [cells for cells in self.cells if any(text.strip() for text in cells)]
        key = next((index for index, column in enumerate(self.columns) if column.is_key), None)
        for line in lines:
            cells = [cell.strip() for cell in line.split("\t")]
            cells += [""] * (width - len(cells))
            at = self._row_with_key(key, cells[key]) if key is not None else None
            if at is not None:
                self.cells[at] = cells
            elif len(self.cells) >= MAX_ROWS:
                self.errors.append({"pointer": "/rows", "message": _("At most %(n)d rows.", n=MAX_ROWS)})
                return
            else:
                self.cells.append(cells)

    def _is_header(self, cells: list[str]) -> bool:
        names = [
            {column.name.lower(), *(str(title).lower() for title in (column.column.title or {}).values())}
            for column in self.columns
        ]
        cells = [cell.strip().lower() for cell in cells]
        return len(cells) == len(names) and all(
            cell in known for cell, known in zip(cells, names, strict=True)
        )

    def _row_with_key(self, key: int, value: str) -> int | None:
        return next((index for index, cells in enumerate(self.cells) if cells[key].strip() == value), None)

    def run(self, command: str, pasted: str = "") -> bool:
        """Add or remove a row (`add`, `remove-3`) or paste rows (`paste`); True when the
        command was one of those."""
        if command == "add":
            self.add_row()
            return True
        if command == "paste":
            self.paste(pasted)
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


# --- posted forms --------------------------------------------------------------------------


def edit_grid(table: Mapping, form: Mapping[str, str]) -> tuple[Grid, list[list] | None]:
    """A posted grid: (grid, rows to save). Rows are None when the post added or removed a
    row (show the grid again, nothing saved) or when a cell is wrong (problems on the grid)."""
    grid = Grid.from_form(table, form)
    if grid.run(str(form.get("command") or "save"), str(form.get("pasted") or "")) or grid.errors:
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
