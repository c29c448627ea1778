"""formflow.tabular, the shared export module: the download's name in UTF-8 (RFC 5987), cells a
spreadsheet would run or cannot hold, money and dates typed in XLSX, the XLSX's temporary file
gone once sent, and the registry refusing a kind twice."""

from __future__ import annotations

import csv
import glob
import io
import os
import tempfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from formflow import tabular
from formflow.tabular import Column, Table

COLUMNS = [Column("名称"), Column("Amount", "money"), Column("Day", "date"), Column("N", "int")]


def _table(rows) -> Table:
    return Table(COLUMNS, iter(rows), "Sheet/one")


def test_the_download_name_is_given_in_utf8_with_an_ascii_fallback(app):
    value = tabular.content_disposition("客户-2026.csv")
    assert (
        value.startswith('attachment; filename="') and "filename*=UTF-8''%E5%AE%A2%E6%88%B7-2026.csv" in value
    )
    assert all(ord(ch) < 128 for ch in value)
    with app.test_request_context():
        response = tabular.download(_table([["a", Decimal("1.00"), None, 1]]), "csv", "x y.csv")
        assert response.headers["Content-Disposition"].startswith('attachment; filename="x_y.csv"')


def test_csv_cells_are_safe_and_money_has_two_places():
    text = "".join(tabular.csv_chunks(_table([["-1+2", Decimal("1234.5"), date(2026, 1, 2), 7]])))
    header, row = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert header == ["名称", "Amount", "Day", "N"]
    assert row == ["'-1+2", "1,234.50", "2026-01-02", "7"]


def test_xlsx_cells_are_typed_and_cleaned_and_the_temporary_file_is_removed():
    pattern = os.path.join(tempfile.gettempdir(), "formflow-export-*.xlsx")
    before = set(glob.glob(pattern))
    chunks = tabular.xlsx_chunks(_table([["=1+1\x07", Decimal("5.00"), date(2026, 3, 4), 3]]))
    first = next(chunks)
    assert set(glob.glob(pattern)) - before  # written to a file while it is sent
    body = first + b"".join(chunks)
    assert set(glob.glob(pattern)) == before  # and removed once sent
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet.title == "Sheet one"
    text, amount, day, number = next(sheet.iter_rows(min_row=2))
    assert text.value == "'=1+1" and text.data_type == "s"
    assert amount.value == 5 and amount.number_format == "#,##0.00"
    assert day.value == datetime(2026, 3, 4) and day.number_format == "yyyy-mm-dd"
    assert number.value == 3


def test_an_abandoned_xlsx_download_leaves_no_file():
    pattern = os.path.join(tempfile.gettempdir(), "formflow-export-*.xlsx")
    before = set(glob.glob(pattern))
    chunks = tabular.xlsx_chunks(_table([["a", None, None, None]]))
    next(chunks)
    chunks.close()  # the client went away
    assert set(glob.glob(pattern)) == before


def test_a_kind_is_registered_once(app):
    entry = tabular.get("customers")
    with pytest.raises(ValueError, match="registered already"):
        tabular.register(
            "customers", filters=entry.filters, columns=entry.columns, rows=entry.rows, count=entry.count,
            filter_names=entry.filter_names, title=entry.title, permission=entry.permission,
        )  # fmt: skip
    assert {"audit", "cases", "customers", "entries", "invoices", "notices", "payments"} <= set(
        tabular.kinds()
    )
