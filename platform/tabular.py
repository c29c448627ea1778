"""Lists as files: a header and an iterator of rows turned into a streamed CSV or XLSX download,
and the registry of the lists that export (`register`), which the list pages, their export
routes and `formflow export-list` all read.

Memory stays flat however many rows: rows are read from the database in chunks by their list's
`rows` function, CSV is written in chunks as they come, and XLSX goes through openpyxl's
write-only workbook (each row is written to its temporary files at once), saved to a temporary
file that is streamed back in chunks and removed.

Cells are made safe for spreadsheets: text that Excel would run as a formula gets a leading '
(csvexport.safe_cell), characters XLSX cannot hold are dropped. Money (Decimal) is a number
shown as 1,234.50 in XLSX and written so in CSV; dates and times are real dates in XLSX.

A low module (Flask and openpyxl, nothing of the feature packages): packages above register
their lists here, on import (the app factory imports them).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Response, stream_with_context

from formflow import csvexport

FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: rows read from the database at a time (the lists' `rows` use it for yield_per)
CHUNK = 500
#: bytes of a saved workbook sent at a time
FILE_CHUNK = 64 * 1024
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


class FilterArgs:
    """A list's query arguments as its filters read them (the page, its export and `export-list`
    alike): text trimmed (empty: None), ISO dates; each bad value a problem at its argument's
    pointer, raised together by `check`."""

    def __init__(self, args: Mapping[str, str]):
        self.args = args
        self.errors: list[dict] = []

    def text(self, name: str) -> str | None:
        return (self.args.get(name) or "").strip() or None

    def day(self, name: str) -> date | None:
        from flask_babel import gettext as _

        raw = self.text(name)
        try:
            return date.fromisoformat(raw) if raw else None
        except ValueError:
            self.problem(name, _("Not a date (YYYY-MM-DD): %(v)s", v=raw))
            return None

    def problem(self, name: str, message: str) -> None:
        self.errors.append({"pointer": f"/{name}", "message": message})

    def check(self) -> None:
        """Invalid with every problem found, if any."""
        from formflow.errors import Invalid

        if self.errors:
            raise Invalid(self.errors)


@dataclass(frozen=True)
class Column:
    """One column of an export: its title (in the reader's language) and what its cells hold:
    "text", "int", "money" (Decimal), "date" or "datetime" (aware, in the app's time zone)."""

    title: str
    kind: str = "text"
    #: XLSX column width in characters (None: the spreadsheet's default)
    width: int | None = None
    #: how a datetime is written in CSV ("seconds", "microseconds", as datetime.isoformat)
    timespec: str = "seconds"


@dataclass
class Table:
    """What an export holds: the columns, the rows (an iterator of value sequences, read lazily)
    and the sheet's title."""

    columns: list[Column]
    rows: Iterable[Sequence[Any]]
    title: str = "Export"


# --- cells --------------------------------------------------------------------------------------

#: characters an XLSX cell cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE, without importing it here)
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def text_cell(value: Any, column: Column) -> str:
    """A cell as CSV text."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and column.kind == "money":
        return _money_text(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec=column.timespec)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | Decimal):
        return str(value)
    return csvexport.safe_cell(value)


def _money_text(value: Decimal) -> str:
    if not value.is_finite() or value.adjusted() > 25:
        return str(value)
    exact = value.quantize(Decimal("0.01"))
    return f"{exact:,}" if exact == value else str(value)


def _xlsx_value(value: Any, column: Column) -> tuple[Any, str | None]:
    """(the value an XLSX cell holds, its number format)."""
    if value is None:
        return None, None
    if isinstance(value, Decimal):
        return value, MONEY_FORMAT if column.kind == "money" else None
    if isinstance(value, datetime):
        # XLSX has no time zones: the moment as the clock of its zone reads it (the rows give
        # times in the app's zone)
        return value.replace(tzinfo=None), DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, bool):
        return str(value), None
    if isinstance(value, int):
        return value, None
    return ILLEGAL_CHARACTERS_RE.sub("", csvexport.safe_cell(value)), None


def local(moment: datetime | None) -> datetime | None:
    """A stored moment (naive UTC) as an aware time in the app's zone, as the pages show it."""
    from formflow.i18n import business_zone

    return None if moment is None else moment.replace(tzinfo=UTC).astimezone(business_zone())


# --- files ----------------------------------------------------------------------------------------


def csv_chunks(table: Table) -> Iterator[str]:
    """The table as CSV text chunks (UTF-8 with a byte order mark, as csvexport writes it)."""
    columns = table.columns
    header = [csvexport.safe_cell(column.title) for column in columns]
    body = (
        [text_cell(value, column) for value, column in zip(row, columns, strict=True)] for row in table.rows
    )
    return csvexport.csv_chunks(header, body, every=CHUNK)


def write_xlsx(table: Table, file) -> None:
    """The table as an XLSX workbook into the binary `file` (write-only: rows go to openpyxl's
    temporary files as they come, the workbook is assembled when saved)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(table.title))
    for index, column in enumerate(table.columns, start=1):
        if column.width:
            sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.append([_xlsx_value(column.title, Column(""))[0] for column in table.columns])
    for row in table.rows:
        cells = []
        for value, column in zip(row, table.columns, strict=True):
            shown, number_format = _xlsx_value(value, column)
            if number_format:  # a cell object only where a format is needed (plain values are cheaper)
                shown = WriteOnlyCell(sheet, value=shown)
                shown.number_format = number_format
            cells.append(shown)
        sheet.append(cells)
    workbook.save(file)


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\\/*?:\[\]]", " ", ILLEGAL_CHARACTERS_RE.sub("", title)).strip()
    return (cleaned or "Export")[:31]


def xlsx_chunks(table: Table) -> Iterator[bytes]:
    """The table as XLSX, written to a temporary file, then read back in chunks; the file is
    removed when the last chunk is sent (or the download is abandoned)."""
    handle, path = tempfile.mkstemp(prefix="formflow-export-", suffix=".xlsx")
    try:
        with os.fdopen(handle, "w+b") as file:
            write_xlsx(table, file)
            file.seek(0)
            while chunk := file.read(FILE_CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def chunks(table: Table, format: str) -> Iterator[str | bytes]:
    if format == "csv":
        return csv_chunks(table)
    if format == "xlsx":
        return xlsx_chunks(table)
    raise ValueError(f"unknown export format {format!r}")


def content_disposition(filename: str) -> str:
    """attachment; an ASCII fallback name and the UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_") or "export"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(table: Table, format: str, filename: str) -> Response:
    """A streamed download of the table as `format` ("csv" or "xlsx"), named `filename`."""
    response = Response(stream_with_context(chunks(table, format)), mimetype=MIMETYPES[format])
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def export_urls(endpoint: str, filter_names: Sequence[str], **values) -> dict[str, str]:
    """{format: the URL of `endpoint`'s export in that format, carrying the list's current
    filters (those of `filter_names` the request has)}; `values` fill the route's other parts."""
    from flask import request, url_for

    query = {name: request.args[name] for name in filter_names if request.args.get(name)}
    return {format: url_for(endpoint, format=format, **values, **query) for format in FORMATS}


def write_file(table: Table, format: str, path: str) -> None:
    """The table as a file at `path` (the CLI's export): CSV in UTF-8 with its BOM, or XLSX."""
    if format == "xlsx":
        with open(path, "wb") as file:
            write_xlsx(table, file)
        return
    with open(path, "w", encoding="utf-8", newline="") as file:
        for chunk in csv_chunks(table):
            file.write(chunk)


def stamped_name(stem: str, format: str, now: datetime | None = None) -> str:
    """`formflow-{stem}-YYYYmmdd-HHMM.{format}`, the time in the app's zone (or `now`)."""
    moment = now or local(datetime.now(UTC).replace(tzinfo=None))
    return f"formflow-{stem}-{moment.strftime('%Y%m%d-%H%M')}.{format}"


# --- the registry of exporting lists -----------------------------------------------------------


@dataclass(frozen=True)
class ListExport:
    """One list that exports.

    - `filters(args, viewer)`: the list's filters from its query arguments (a Mapping of str; the
      list page, its export route and the CLI call it alike); raises formflow.errors.Invalid on a
      bad value. `viewer` is the user whose list it is, or None (the CLI: every row).
    - `columns(filters)`: the columns, titles in the current language.
    - `rows(filters)`: the rows (value sequences in column order), read from the database in
      chunks, in the list's order.
    - `count(filters)`: how many rows `rows` yields (the CLI's progress bar).
    - `filter_names`: the query arguments `filters` reads (the CLI refuses others).
    - `title()`: the sheet's title; `stem`: the file name's middle part.
    - `permission`: who may export it (the list page's permission).
    """

    kind: str
    filters: Callable[[Mapping[str, str], Any], Any]
    columns: Callable[[Any], list[Column]]
    rows: Callable[[Any], Iterable[Sequence[Any]]]
    count: Callable[[Any], int]
    filter_names: tuple[str, ...]
    title: Callable[[], str]
    permission: str
    stem: str = ""
    extra: dict = field(default_factory=dict)

    def table(self, filters: Any) -> Table:
        return Table(self.columns(filters), self.rows(filters), self.title())

    def filename(self, format: str, now: datetime | None = None) -> str:
        return stamped_name(self.stem or self.kind, format, now)


_LISTS: dict[str, ListExport] = {}


def register(
    kind: str,
    *,
    filters: Callable[[Mapping[str, str], Any], Any],
    columns: Callable[[Any], list[Column]],
    rows: Callable[[Any], Iterable[Sequence[Any]]],
    count: Callable[[Any], int],
    filter_names: Sequence[str],
    title: Callable[[], str],
    permission: str,
    stem: str = "",
) -> ListExport:
    """Add a list that exports (see ListExport); a kind is registered once."""
    if kind in _LISTS:
        raise ValueError(f"the export {kind!r} is registered already")
    entry = ListExport(
        kind, filters, columns, rows, count, tuple(filter_names), title, permission, stem or kind
    )
    _LISTS[kind] = entry
    return entry


def get(kind: str) -> ListExport:
    """The list registered as `kind` (KeyError when none is)."""
    return _LISTS[kind]


def kinds() -> list[str]:
    return sorted(_LISTS)


def export_response(kind: str, format: str, args: Mapping[str, str], viewer: Any) -> Response:
    """The download of list `kind` for the filters in `args`, as `viewer` sees it (an export
    route's whole body, after its permission check)."""
    from flask_babel import gettext as _

    from formflow.errors import Invalid

    if format not in FORMATS:
        raise Invalid([{"pointer": "/format", "message": _("Export as csv or xlsx.")}])
    entry = get(kind)
    return download(entry.table(entry.filters(args, viewer)), format, entry.filename(format))
