"""The case list as a file: CSV (UTF-8 with a byte order mark, so Excel on Chinese Windows
reads it) or XLSX, exactly the cases the list shows for the same filters and viewer.

Columns: id, process, customer code and name, state title, created at (in the app's time
zone, with its offset), created by, then the top-level fields of the forms involved, titled
in the user's language and valued as the case page shows them (money with two places).
A text cell starting like a formula (=, +, -, @, tab, CR) gets a leading ' so a spreadsheet
shows it rather than runs it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import gettext as _

from formflow import csvexport, forms
from formflow.cases import services
from formflow.csvexport import safe_cell
from formflow.i18n import select_locale
from formflow.records.models import Case

#: The most rows one export holds (the list page says so when the filters match more).
MAX_ROWS = 50_000

#: What a spreadsheet would run as a formula (or DDE) when a cell starts with it.


@dataclass
class FieldColumn:
    name: str
    pointer: str
    title: str
    money: bool


def field_columns(filters: services.CaseFilter) -> list[FieldColumn]:
    """The top-level fields of the forms the matching cases are on, in form order (one
    column per field name; titles that differ between processes are joined)."""
    found: dict[str, FieldColumn] = {}
    for version in services.versions_matching(filters):
        for column in forms.columns(*services.form_of(version)):
            known = found.get(column.pointer)
            if known is None:
                found[column.pointer] = FieldColumn(column.name, column.pointer, column.title, column.money)
            elif column.title not in known.title.split(" / "):
                known.title += " / " + column.title
                known.money = known.money and column.money
    return list(found.values())


def header(fields: list[FieldColumn]) -> list[str]:
    fixed = [
        _("Case"),
        _("Process"),
        _("Customer code"),
        _("Customer name"),
        _("State"),
        _("Created"),
        _("Created by"),
    ]
    return fixed + [column.title for column in fields]


def _created_at(case: Case) -> str:
    # ZoneInfo by name: flask-babel may hand out a pytz zone, which `astimezone` gets wrong.
    zone = ZoneInfo(str(get_timezone()))
    return case.created_at.replace(tzinfo=UTC).astimezone(zone).isoformat(timespec="seconds")


def rows(filters: services.CaseFilter, fields: list[FieldColumn]) -> Iterator[list]:
    """One list per case: texts, and money amounts as Decimal (None: no value)."""
    locale = select_locale()
    for case in services.matching(filters, limit=MAX_ROWS):
        schema, ui_schema = services.form_of(case.version)
        filenames = {a.token: a.filename for a in case.attachments}
        shown = forms.top_level_values(forms.display(schema, ui_schema, case.data or {}), filenames)
        data = case.data if isinstance(case.data, dict) else {}
        fixed = [
            case.id,
            case.process.name(locale),
            case.customer.code,
            case.customer.name,
            services.state_title(case),
            _created_at(case),
            case.created_by.label if case.created_by else "",
        ]
        values = []
        for column in fields:
            raw = data.get(column.name)
            exact = column.money and isinstance(raw, int | Decimal) and not isinstance(raw, bool)
            values.append(Decimal(raw) if exact and forms.money_text(raw) else shown.get(column.pointer, ""))
        yield fixed + values


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return forms.money_text(value) or str(value)
    return safe_cell(str(value)) if isinstance(value, str) else str(value)


def csv_chunks(filters: services.CaseFilter) -> Iterator[str]:
    """The export as CSV text chunks (the first starts with the byte order mark)."""
    fields = field_columns(filters)
    body = ([_text(value) for value in row] for row in rows(filters, fields))
    return csvexport.csv_chunks([_text(title) for title in header(fields)], body)


def xlsx_bytes(filters: services.CaseFilter) -> bytes:
    """The export as an XLSX workbook (one sheet; amounts are numbers shown as 1,234.50)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def text(value) -> str:
        return ILLEGAL_CHARACTERS_RE.sub("", _text(value))  # control characters XLSX cannot hold

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Cases"))
    fields = field_columns(filters)
    sheet.append([text(title) for title in header(fields)])
    for row in rows(filters, fields):
        cells = []
        for value in row:
            if isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "#,##0.00"
            else:
                cell = WriteOnlyCell(sheet, value=value if isinstance(value, int) else text(value))
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(extension: str) -> str:
    stamp = datetime.now(ZoneInfo(str(get_timezone()))).strftime("%Y%m%d-%H%M")
    return f"formflow-cases-{stamp}.{extension}"
