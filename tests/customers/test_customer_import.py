"""Importing customers from CSV (UTF-8, UTF-8 with BOM, GBK) and XLSX: a preview naming every
bad row by row number, column and message; all or nothing by default, only the valid rows on
request; the export reads back in; bad files are refused with a clear message, nothing written."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from cases.cases_support import new_customer
from openpyxl import Workbook, load_workbook

from formflow.customers import importing
from formflow.customers.models import Customer
from formflow.errors import Invalid
from formflow.extensions import db

CHINESE = (
    "客户编码,客户名称,等级,状态,联系人,电话,邮箱,地址\r\n"
    "IM01,上海甲公司,A,正常,张三,021-61234567,zs@example.cn,上海市浦东新区\r\n"
    "IM02,北京乙公司,C,,,,,\r\n"
)
ENGLISH = "code,name,tier,status\nIM01,Alpha Ltd,A,Active\nIM02,Beta Ltd,B,warned\n"


def codes() -> set[str]:
    return set(db.session.execute(sa.select(Customer.code).where(Customer.code.like("IM%"))).scalars())


@pytest.mark.parametrize(
    "content",
    [CHINESE.encode("utf-8"), b"\xef\xbb\xbf" + CHINESE.encode("utf-8"), CHINESE.encode("gbk")],
    ids=["utf-8", "utf-8-bom", "gbk"],
)
def test_a_chinese_csv_in_each_encoding_imports_with_its_contact(app_ctx, zh, content):
    found = importing.preview(content, "客户.csv")
    assert not found.all_problems and [row.values["code"] for row in found.rows] == ["IM01", "IM02"]
    done = importing.run(content, "客户.csv")
    assert [c.code for c in done.created] == ["IM01", "IM02"]
    first = db.session.execute(sa.select(Customer).where(Customer.code == "IM01")).scalar_one()
    assert (first.name, first.tier, first.status) == ("上海甲公司", "A", "active")
    assert first.contact_list() == [
        {"person": "张三", "phone": "021-61234567", "email": "zs@example.cn", "address": "上海市浦东新区"}
    ]


def test_english_headers_and_status_labels_are_understood(app_ctx, en):
    importing.run(ENGLISH.encode(), "customers.csv")
    rows = db.session.execute(sa.select(Customer.code, Customer.status).where(Customer.code.like("IM%")))
    assert dict(rows.all()) == {"IM01": "active", "IM02": "warned"}


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_workbook_imports_and_a_numeric_code_stays_whole(app_ctx, zh):
    content = _xlsx([["客户编码", "客户名称", "等级"], [1001, "数字编码公司", "B"], ["IM09", "甲", "C"]])
    done = importing.run(content, "list.xlsx")
    assert sorted(c.code for c in done.created) == ["1001", "IM09"]


def test_every_bad_row_is_named_and_nothing_is_written(app_ctx, en):
    new_customer("IM00", "已有客户", "A")
    content = (
        "code,name,tier,phone\n"
        "IM01,好客户,A,\n"  # row 2: fine
        "IM00,重复已有,A,\n"  # row 3: the code exists
        "IM03,,Z,\n"  # row 4: no name, unknown tier
        "IM01,同码,B,\n"  # row 5: same code as row 2
        "IM05,电话不对,B,abc\n"  # row 6: the phone
    ).encode()
    found = importing.preview(content, "bad.csv")
    problems = {(p.row, p.column) for p in found.all_problems}
    assert problems == {(3, "code"), (4, "name"), (4, "tier"), (5, "code"), (6, "phone")}
    messages = " ".join(p.message for p in found.all_problems)
    assert "IM00 exists already" in messages and "Code IM01 is also on row 2" in messages
    assert "A, B, C" in messages
    with pytest.raises(Invalid) as refused:
        importing.run(content, "bad.csv")
    assert {error["row"] for error in refused.value.errors} == {3, 4, 5, 6}
    assert codes() == {"IM00"}
    done = importing.run(content, "bad.csv", only_valid=True)
    assert [c.code for c in done.created] == ["IM01"] and [r.number for r in done.skipped] == [3, 4, 5, 6]


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"code,name\nIM01,x\n", "a.csv", "Tier"),  # a required column missing
        (
            b"code,name,tier,colour\nIM01,x,A,red\n",
            "a.csv",
            "colour",
        ),  # an unknown column, named with its letter
        (b"code,name,tier,code\nIM01,x,A,IM02\n", "a.csv", "D"),  # a column twice
        ("code,name,tier\nIM01,甲,A\n".encode("utf-16"), "a.csv", "UTF-16"),
        (b"code,name,tier\nIM01,\x81\x20bad,A\n", "a.csv", "GBK"),  # not UTF-8, not GB 18030 either
        (b"PK\x03\x04not really a workbook", "a.xlsx", "XLSX"),
        (b"", "a.csv", ""),
    ],
    ids=["missing-column", "unknown-column", "repeated-column", "utf-16", "bad-bytes", "bad-xlsx", "empty"],
)
def test_a_file_that_cannot_be_read_says_why_and_writes_nothing(app_ctx, en, content, name, expected):
    with pytest.raises(Invalid) as refused:
        found = importing.preview(content, name)
        if found.problems:
            raise Invalid([{"pointer": "/file", "message": p.message} for p in found.problems])
    text = " ".join(error["message"] for error in refused.value.errors)
    assert expected in text and text
    with pytest.raises(Invalid):
        importing.run(content, name)
    assert codes() == set()


def test_what_the_list_exports_imports_again(app_ctx, en, login_as):
    first = importing.preview(CHINESE.encode(), "first.csv")
    importing.run(CHINESE.encode(), "first.csv")
    db.session.commit()
    staff = login_as("staff")
    exported = staff.get("/customers/export.xlsx?q=IM")
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Code", "Name", "Tier"] and [r[0] for r in rows[1:]] == ["IM01", "IM02"]
    csv_text = staff.get("/customers/export.csv?q=IM&tier=A").data.decode("utf-8-sig")
    assert "IM01" in csv_text and "IM02" not in csv_text  # the list's filters
    again = importing.preview(exported.data, "customers.xlsx")  # the layout reads back in
    assert [row.values["given"] for row in again.rows] == [row.values["given"] for row in first.rows]
    assert {p.message for p in again.all_problems} == {
        "A customer with code IM01 exists already.",
        "A customer with code IM02 exists already.",
    }


def test_a_code_in_other_letter_case_is_the_same_code(app_ctx, en):
    new_customer("IM00", "已有客户", "A")
    found = importing.preview(b"code,name,tier\nim00,x,A\nIM05,y,B\nim05,z,B\n", "case.csv")
    problems = {(p.row, p.message) for p in found.all_problems}
    assert problems == {(2, "A customer with code im00 exists already."), (4, "Code im05 is also on row 3.")}


def test_a_cell_the_export_kept_from_running_as_a_formula_reads_back_as_it_was(app_ctx, en):
    content = b"code,name,tier,phone\nIM01,'=Acme,A,'+86 21 6123 4567\n"
    [row] = importing.preview(content, "export.csv").rows
    assert not row.problems and row.values["name"] == "=Acme"
    assert row.values["contacts"][0]["phone"] == "+86 21 6123 4567"
