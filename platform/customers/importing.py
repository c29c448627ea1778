"""Customers from a CSV or XLSX file, as banks and Excel write them: CSV in UTF-8, UTF-8 with a
byte order mark or GBK (read as GB 18030, its superset); XLSX read with openpyxl. First a
preview: every row with what it would create and every problem named by row number (as the
spreadsheet numbers it, the header being row 1), column and message. Then the import: all or
nothing by default, or only the valid rows when asked."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from formflow.csvexport import FORMULA_STARTS
from formflow.customers import fields, services
from formflow.customers.columns import COLUMNS, CONTACT_KEYS, Column
from formflow.customers.models import CUSTOMER_STATUSES, Customer, status_labels
from formflow.customers.tiers import tier_codes
from formflow.errors import Invalid
from formflow.extensions import db

#: the most data rows one file may hold
MAX_ROWS = 20_000
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Problem:
    row: int  # as the spreadsheet numbers it (the header is row 1); 0: the file itself
    column: str  # the column's title as the file writes it ("" for the whole row or file)
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Row:
    number: int
    values: dict  # code, name, tier, status, contacts (as fields.clean returns them)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Preview:
    encoding: str
    columns: list[str]  # the header as the file writes it
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # of the file or its header

    @property
    def valid(self) -> list[Row]:
        return [row for row in self.rows if not row.problems]

    @property
    def invalid(self) -> list[Row]:
        return [row for row in self.rows if row.problems]

    @property
    def all_problems(self) -> list[Problem]:
        return self.problems + [problem for row in self.rows for problem in row.problems]


class FileProblem(Invalid):
    """The file as a whole cannot be read (encoding, layout, not a spreadsheet)."""

    def __init__(self, message: str, row: int = 0):
        super().__init__([{"pointer": "/file", "message": message, "row": row}])


# --- reading the file ---------------------------------------------------------------------------


def read_table(content: bytes, filename: str = "") -> tuple[str, list[list[str]]]:
    """The file's encoding (or "xlsx") and its rows of cell texts."""
    if content.startswith(ZIP_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx", _xlsx_rows(content)
    text, encoding = _decoded(content)
    try:
        return encoding, [row for row in csv.reader(io.StringIO(text, newline=""), strict=True)]
    except csv.Error as error:
        raise FileProblem(_("Not a readable CSV file: %(error)s", error=error)) from None


def _decoded(content: bytes) -> tuple[str, str]:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(_("The file is UTF-16 text: save it as CSV in UTF-8 or GBK."))
    if content.startswith(b"\xef\xbb\xbf"):
        return _decode(content[3:], "utf-8", "UTF-8 (BOM)"), "UTF-8 (BOM)"
    try:
        return content.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    return _decode(content, "gb18030", "GBK"), "GBK"


def _decode(content: bytes, codec: str, name: str) -> str:
    try:
        return content.decode(codec)
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        message = _(
            "The file is neither UTF-8 nor GBK text: row %(row)d has bytes that are not %(name)s.",
            row=line, name=name,
        )  # fmt: skip
        raise FileProblem(message, row=line) from None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed as a number: 1001, not 1001.0
    return str(value).strip()


def _xlsx_rows(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises zipfile, KeyError, XML and its own errors for a bad file
        raise FileProblem(_("Not a readable XLSX file (is it an Excel workbook saved as .xlsx?).")) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(value) for value in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except Exception:  # no worksheet (a chart sheet only), a sheet openpyxl cannot parse…
        raise FileProblem(_("Not a readable XLSX file (is it an Excel workbook saved as .xlsx?).")) from None
    finally:
        workbook.close()


# --- the preview ------------------------------------------------------------------------------------


def _known_names() -> dict[str, Column]:
    names = {}
    for column in COLUMNS:
        for language in ("zh_CN", "en"):
            with force_locale(language):
                names[column.title.lower()] = column
        names[column.key] = column
        names.update({alias: column for alias in column.aliases})
    return names


def _status_names() -> dict[str, str]:
    names = {status: status for status in CUSTOMER_STATUSES}
    for language in ("zh_CN", "en"):
        with force_locale(language):
            names.update({label.lower(): status for status, label in status_labels().items()})
    return names


def preview(content: bytes, filename: str = "") -> Preview:
    """What importing the file would do; FileProblem when it cannot be read at all."""
    if not content.strip():
        raise FileProblem(_("The file is empty."))
    encoding, table = read_table(content, filename)
    while table and not any(cell.strip() for cell in table[-1]):
        table.pop()
    if not table:
        raise FileProblem(_("The file is empty."))
    header = [cell.strip().lstrip("\ufeff") for cell in table[0]]
    found = Preview(encoding, header)
    positions = _header_positions(header, found)
    if found.problems:
        return found
    if len(table) - 1 > MAX_ROWS:
        raise FileProblem(_("At most %(n)d rows per file: split it.", n=MAX_ROWS))
    tiers, statuses = tier_codes(), _status_names()
    first_row = {}
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        found.rows.append(_row(number, cells, header, positions, tiers, statuses, first_row))
    _mark_existing(found, header[positions["code"]])
    return found


def _header_positions(header: list[str], found: Preview) -> dict[str, int]:
    names, positions = _known_names(), {}
    for index, title in enumerate(header):
        if not title:
            continue
        column = names.get(title.lower())
        letter = _letter(index)
        if column is None:
            found.problems.append(Problem(1, title, _("Unknown column “%(title)s” (column %(letter)s).",
                                                      title=title, letter=letter)))  # fmt: skip
        elif column.key in positions:
            message = _("Column %(letter)s repeats column %(other)s.", letter=letter,
                        other=_letter(positions[column.key]))  # fmt: skip
            found.problems.append(Problem(1, title, message))
        else:
            positions[column.key] = index
    for column in COLUMNS:
        if column.required and column.key not in positions:
            message = _("The header has no column “%(title)s”.", title=column.title)
            found.problems.append(Problem(1, column.title, message))
    return positions


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _row(number, cells, header, positions, tiers, statuses, first_row) -> Row:
    def cell(key: str) -> str:
        index = positions.get(key)
        text = cells[index].strip() if index is not None and index < len(cells) else ""
        return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text  # csvexport.safe_cell

    values: dict = {"code": cell("code"), "name": cell("name"), "tier": cell("tier")}
    status = cell("status")
    values["status"] = statuses.get(status.lower(), status) if status else "active"
    contact = {key: cell(key) for key in CONTACT_KEYS}
    values["contacts"] = [contact] if any(contact.values()) else []
    cleaned, errors = fields.clean(values, tiers=tiers)
    row = Row(number, cleaned | {"given": values})
    for error in errors:
        key = error["pointer"].split("/")[-1]
        title = header[positions[key]] if key in positions else key
        row.problems.append(Problem(number, title, error["message"]))
    code = (cleaned.get("code") or "").lower()
    if code:
        if code in first_row:
            title = header[positions["code"]]
            message = _("Code %(code)s is also on row %(row)d.", code=cleaned["code"], row=first_row[code])
            row.problems.append(Problem(number, title, message))
        else:
            first_row[code] = number
    return row


def _mark_existing(found: Preview, code_title: str) -> None:
    codes = [row.values["code"].lower() for row in found.rows if row.values.get("code")]
    taken = set()
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        query = sa.select(sa.func.lower(Customer.code)).where(sa.func.lower(Customer.code).in_(chunk))
        taken |= set(db.session.execute(query).scalars())
    for row in found.rows:
        if (row.values.get("code") or "").lower() in taken:
            message = _("A customer with code %(code)s exists already.", code=row.values["code"])
            row.problems.append(Problem(row.number, code_title, message))


# --- the import -----------------------------------------------------------------------------------


@dataclass
class Imported:
    created: list[Customer]
    skipped: list[Row]


def run(content: bytes, filename: str = "", *, only_valid: bool = False, actor=None) -> Imported:
    """Create the file's customers in the caller's transaction. All or nothing unless
    `only_valid`: Invalid listing every problem (pointer /rows/N/column) and nothing created."""
    found = preview(content, filename)
    problems = found.problems if only_valid else found.all_problems
    if problems or not found.rows:
        raise Invalid(
            [{"pointer": f"/rows/{p.row}/{p.column}", "message": p.message, "row": p.row} for p in problems]
            or [{"pointer": "/file", "message": _("The file has no customers to import."), "row": 0}]
        )
    created, reason = [], _("Imported from %(file)s.", file=filename or "file")
    for row in found.valid:
        values = row.values
        customer = services.create(
            values["code"], values["name"], values["tier"], status=values["status"],
            contacts=values["contacts"], actor=actor, reason=reason,
        )  # fmt: skip
        created.append(customer)
    if not created:
        raise Invalid([{"pointer": "/file", "message": _("No row of the file is valid."), "row": 0}])
    return Imported(created, found.invalid)
