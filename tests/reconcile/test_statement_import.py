"""Importing bank statements: the mapping per bank, UTF-8 and GBK, preamble rows above the header,
thousands separators and negatives written (12.50) or 12.50-, XLSX; every bad row named in the
preview and nothing imported; the same file or an overlapping one adds nothing twice, while two
identical payments on one day both stay."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook
from reconcile_support import bank_account, csv_bytes, row

from formflow.errors import Invalid
from formflow.extensions import db
from formflow.reconcile import importing, parsing
from formflow.reconcile.models import BankLine

TODAY = date(2026, 12, 7)


def _lines(account) -> list[BankLine]:
    return list(
        db.session.execute(
            sa.select(BankLine).where(BankLine.bank_account_id == account.id).order_by(BankLine.id)
        ).scalars()
    )


def _import(account, content, filename="statement.csv"):
    found = importing.preview(account, filename, content, actor=None, today=TODAY)
    return found, importing.confirm(found.upload, actor=None, today=TODAY)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_statement_in_utf8_or_gbk_is_read_through_its_mapping(app_ctx, encoding):
    account = bank_account()
    content = csv_bytes(
        [
            row(
                "2026-11-03",
                "S001",
                amount_in="1,234.50",
                balance="11,234.50",
                who="上海某某公司",
                memo="货款 INV-2026-000001",
            ),
            row("2026/11/04", "S002", amount_out="(20.00)", balance="11,214.50", memo="手续费"),
            row("20261105", "S003", amount_out="8.00-", balance="11,206.50", memo="短信费"),
        ],
        encoding=encoding,
    )
    found, done = _import(account, content)
    assert found.problems == [] and len(found.rows) == 3 and found.known == 0
    assert done.added == 3 and done.skipped == 0
    lines = _lines(account)
    assert [(line.booked_on, line.amount, line.balance) for line in lines] == [
        (date(2026, 11, 3), Decimal("1234.50"), Decimal("11234.50")),
        (date(2026, 11, 4), Decimal("-20.00"), Decimal("11214.50")),
        (date(2026, 11, 5), Decimal("-8.00"), Decimal("11206.50")),
    ]
    assert lines[0].counterparty == "上海某某公司" and "INV-2026-000001" in lines[0].memo


def test_the_same_file_again_or_an_overlapping_one_adds_nothing_twice(app_ctx):
    account = bank_account()
    first = csv_bytes(
        [row("2026-11-03", "S001", amount_in="100.00"), row("2026-11-04", "S002", amount_in="200.00")]
    )
    _import(account, first)
    again, done = _import(account, first)
    assert again.known == 2 and done.added == 0 and done.skipped == 2
    overlapping = csv_bytes(
        [row("2026-11-04", "S002", amount_in="200.00"), row("2026-11-05", "S003", amount_in="50")]
    )
    _found, done = _import(account, overlapping)
    assert done.added == 1
    assert [line.serial for line in _lines(account)] == ["S001", "S002", "S003"]


def test_without_serial_numbers_two_identical_payments_on_one_day_both_stay(app_ctx):
    account = bank_account(mapping={"date": "交易日期", "amount": "金额", "memo": "摘要"})
    content = "交易日期,金额,摘要\n2026-11-03,100.00,C001 货款\n2026-11-03,100.00,C001 货款\n".encode()
    _found, done = _import(account, content)
    assert done.added == 2
    _found, again = _import(account, content)
    assert again.added == 0 and len(_lines(account)) == 2
    assert len({line.dedupe_key for line in _lines(account)}) == 2


def test_an_xlsx_export_is_read_with_its_dates_and_numbers(app_ctx):
    account = bank_account(mapping={"date": "Date", "amount": "Amount", "serial": "Serial", "memo": "Memo"})
    book = Workbook()
    sheet = book.active
    sheet.append(["Statement of account 1234"])
    sheet.append(["Date", "Serial", "Amount", "Memo"])
    sheet.append([date(2026, 11, 3), "X1", 1500.5, "INV-2026-000003"])
    sheet.append(["2026-11-04", "X2", "-30.00", "fee"])
    buffer = io.BytesIO()
    book.save(buffer)
    _found, done = _import(account, buffer.getvalue(), "statement.xlsx")
    assert done.added == 2
    assert [(line.booked_on, line.amount) for line in _lines(account)] == [
        (date(2026, 11, 3), Decimal("1500.50")),
        (date(2026, 11, 4), Decimal("-30.00")),
    ]


def test_every_bad_row_is_named_and_the_file_is_not_imported(app_ctx):
    account = bank_account()
    content = csv_bytes(
        [
            row("2026-11-03", "S001", amount_in="100.00"),
            row("2026-13-45", "S002", amount_in="100.00"),
            row("2026-11-05", "S003", amount_in="12,3a"),
            row("1999-01-01", "S004", amount_in="1.00"),
        ]
    )
    with force_locale("en"):
        found = importing.preview(account, "bad.csv", content, actor=None, today=TODAY)
    messages = {problem["pointer"]: problem["message"] for problem in found.problems}
    assert set(messages) == {"/rows/2/date", "/rows/3/credit", "/rows/4/date"}
    assert "2026-13-45" in messages["/rows/2/date"] and "12,3a" in messages["/rows/3/credit"]
    assert "out of range" in messages["/rows/4/date"]
    with pytest.raises(Invalid) as refused, force_locale("en"):
        importing.confirm(found.upload, actor=None, today=TODAY)
    assert "3 rows" in refused.value.errors[0]["message"]
    assert _lines(account) == []


def test_a_file_of_another_layout_names_the_missing_columns(app_ctx):
    account = bank_account()
    with pytest.raises(Invalid) as refused:
        importing.preview(account, "other.csv", b"Datum,Betrag\n2026-11-03,5\n", actor=None, today=TODAY)
    pointers = {problem["pointer"] for problem in refused.value.errors}
    assert "/mapping/date" in pointers and "/mapping/credit" in pointers
    assert "交易日期" in refused.value.errors[0]["message"] and "Datum" in refused.value.errors[0]["message"]
    with pytest.raises(Invalid) as old_excel, force_locale("en"):
        importing.preview(account, "old.xls", b"\xd0\xcf\x11\xe0rest", actor=None, today=TODAY)
    assert ".xls" in old_excel.value.errors[0]["message"]


@pytest.mark.parametrize(
    ("mapping", "pointer"),
    [
        ({"amount": "金额"}, "/mapping/date"),
        ({"date": "日期"}, "/mapping/amount"),
        ({"date": "日期", "amount": "金额", "credit": "收入"}, "/mapping/amount"),
        ({"date": "日期", "amount": "日期"}, "/mapping/date"),
        ({"date": "日期", "amount": "金额", "encoding": "latin-9"}, "/mapping/encoding"),
    ],
)
def test_a_mapping_that_cannot_read_a_statement_is_refused(app_ctx, mapping, pointer):
    with pytest.raises(Invalid) as refused:
        bank_account(mapping=mapping)
    assert pointer in {problem["pointer"] for problem in refused.value.errors}


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1,234.56", "1234.56"),
        ("(1,234.56)", "-1234.56"),
        ("1,234.56-", "-1234.56"),
        ("¥12.00", "12.00"),
        ("-5", "-5.00"),
        ("+7.10", "7.10"),
        ("RMB 3.00", "3.00"),
    ],
)
def test_amounts_as_banks_write_them(text, amount):
    assert parsing._amount(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["12.345", "1e400", "NaN", "abc", "", "1,2,3.4.5"])
def test_what_is_not_an_amount(text):
    assert parsing._amount(text) is None
