"""A file field's `accept` is checked against what the file is (its first bytes), never
against the browser's Content-Type or the name alone (issue 11 item 7: `run.exe` sent as
`image/png` was accepted)."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from formflow import forms

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 16
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def _form(accept):
    schema = {"type": "object", "properties": {"doc": {"type": "string", "title": "Statement"}}}
    return schema, {"doc": {"ui:widget": "file", "ui:options": {"accept": accept}}}


def _parse(accept, content: bytes, name: str, claimed: str):
    stored = []

    def store(pointer, upload, options):
        stored.append(upload.read())
        return "att_new"

    schema, ui = _form(accept)
    files = MultiDict({"/doc": FileStorage(io.BytesIO(content), filename=name, content_type=claimed)})
    parsed = forms.parse(schema, ui, MultiDict(), files, store_upload=store)
    return parsed, stored


@pytest.mark.parametrize(
    ("accept", "content", "name", "claimed"),
    [
        (["image/*"], PNG, "scan.png", "image/png"),
        (["image/*"], JPEG, "scan.jpg", "application/octet-stream"),  # the claim does not matter
        (["image/*"], PNG, "scan", ""),  # nor does a missing extension for a type pattern
        ([".pdf"], PDF, "receipt.PDF", "application/pdf"),
        ("application/pdf,image/*", PDF, "回单.pdf", "application/pdf"),
        ([".csv"], b"name,amount\r\nAcme,12.50\r\n", "rows.csv", "text/csv"),
        (["text/csv"], "名称,金额\n华东,12.50\n".encode("gb18030"), "明细.csv", "application/vnd.ms-excel"),
        (["text/plain"], codecs.BOM_UTF8 + "备注\n".encode(), "note.txt", "text/plain"),
        (["text/plain"], codecs.BOM_UTF16_LE + "备注".encode("utf-16-le"), "note.txt", ""),
        ([".docx"], _zip("[Content_Types].xml", "word/document.xml"), "contract.docx", ""),
        ([".ofd"], _zip("OFD.xml"), "发票.ofd", "application/octet-stream"),
    ],
)
def test_a_file_whose_content_is_accepted_is_stored(en, accept, content, name, claimed):
    parsed, stored = _parse(accept, content, name, claimed)
    assert parsed.errors == []
    assert stored == [content]


@pytest.mark.parametrize(
    ("accept", "content", "name", "claimed", "message"),
    [
        (
            ["image/*"],
            EXE,
            "run.png",
            "image/png",
            "Statement accepts only image/*; the content of this file is application/x-msdownload.",
        ),
        (
            [".pdf", "image/*"],
            EXE,
            "run.exe",
            "image/png",
            "Statement accepts only .pdf, image/*; the content of this file is application/x-msdownload.",
        ),
        (
            [".pdf"],
            b"just some text",
            "fake.pdf",
            "application/pdf",
            "Statement accepts only .pdf; the content of this file is text/plain.",
        ),
        (
            [".csv", "text/plain"],
            b"name,amount\x00\x01\x02\x03",
            "rows.csv",
            "text/csv",
            "Statement accepts only .csv, text/plain; the content of this file is none of these.",
        ),
        (
            [".csv"],
            PNG,
            "rows.csv",
            "text/csv",
            "Statement accepts only .csv; the content of this file is image/png.",
        ),
        (
            [".pdf"],
            PDF,
            "receipt.exe",
            "application/pdf",
            "Statement accepts only .pdf: name the file with its extension.",
        ),
        (
            [".ofd"],
            EXE,
            "发票.ofd",
            "application/octet-stream",
            "Statement accepts only .ofd; the content of this file is application/x-msdownload.",
        ),
    ],
)
def test_a_file_whose_content_is_not_accepted_is_refused_naming_the_field(
    en, accept, content, name, claimed, message
):
    parsed, stored = _parse(accept, content, name, claimed)
    assert parsed.errors == [{"pointer": "/doc", "message": message}]
    assert stored == []
