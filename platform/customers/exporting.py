"""The customer list as a file, for exactly the filters the list shows: CSV (UTF-8 with a byte
order mark, streamed) or XLSX (openpyxl's write-only mode, rows written as they are read). The
columns are the ones the import reads, so an exported file imports again."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from formflow import csvexport
from formflow.customers.columns import COLUMNS
from formflow.customers.models import Customer, status_label
from formflow.extensions import db

#: customers read from the database at a time
CHUNK = 500


def header() -> list[str]:
    return [column.title for column in COLUMNS]


def rows(query) -> Iterator[list[str]]:
    """One row of text per customer of `query` (a select of Customer), in code order."""
    result = db.session.execute(query.order_by(Customer.code).execution_options(yield_per=CHUNK))
    for customer in result.scalars():
        contact = customer.contacts[0].snapshot() if customer.contacts else {}
        values = {
            "code": customer.code,
            "name": customer.name,
            "tier": customer.tier,
            "status": status_label(customer.status),
        } | contact
        yield [csvexport.safe_cell(values.get(column.key, "")) for column in COLUMNS]


def csv_chunks(query) -> Iterator[str]:
    return csvexport.csv_chunks(header(), rows(query))


def xlsx_bytes(query, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    for index, column in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + index)].width = 30 if column.key in ("name", "address") else 16
    sheet.append(header())
    for row in rows(query):
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        return file.read()
