"""Limits on uploads (issue 11 item 7): a field's `accept` judged by the file's content on the
form and in the API; uploads that never go on a case deleted by `tick` after a day (never one
a draft or case refers to); a quota per user."""

from __future__ import annotations

import io
import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cases.cases_support import new_user
from werkzeug.datastructures import FileStorage

from formflow.auth import services as auth
from formflow.cases import services, uploads
from formflow.cases.models import Attachment
from formflow.errors import Invalid
from formflow.extensions import db, utcnow

NEW = "/cases/new?process=t_payment&customer=C100"
PDF = b"%PDF-1.4 a receipt for the limits\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48


def _post(client, fields, upload):
    data = {"csrf_token": client.csrf_token("/"), **fields, "/receipt": upload}
    return client.raw.post(NEW, data=data, content_type="multipart/form-data")


def _rows(app) -> list[Attachment]:
    with app.app_context():
        rows = list(db.session.execute(sa.select(Attachment).order_by(Attachment.id)).scalars())
        for row in rows:
            db.session.expunge(row)
        return rows


def _blob(app, content: bytes) -> Path:
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    return Path(app.config["UPLOAD_FOLDER"]) / digest[:2] / digest


def _bearer(app, user) -> dict:
    with app.app_context():
        token, _record = auth.create_token(auth.find_user(user), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def english_staff(staff):
    staff.raw.set_cookie("lang", "en")
    return staff


# --- the content decides --------------------------------------------------------------------


def test_a_program_sent_as_an_image_is_refused_on_the_form_naming_the_field(
    app, payment, customer, english_staff
):
    response = _post(
        english_staff, {"/note": "x", "case_action": "draft"}, (io.BytesIO(EXE), "photo.png", "image/png")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    expected = "Receipt accepts only .pdf, .txt, .html, image/*; the content of this file is "
    assert expected + "application/x-msdownload." in page
    assert _rows(app) == []
    assert not _blob(app, EXE).exists()


def test_a_program_sent_as_an_image_is_refused_by_the_api(app, payment, customer, make_user):
    make_user("erp", roles=["staff"])
    headers = _bearer(app, "erp") | {"Accept-Language": "en", "Cookie": "lang=en"}
    client = app.test_client()
    client.set_cookie("lang", "en")
    refused = client.post(
        "/api/v1/attachments",
        data={
            "file": (io.BytesIO(EXE), "photo.png", "image/png"),
            "process": "t_payment",
            "field": "/receipt",
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    [error] = refused.json["errors"]
    assert error["pointer"] == "/file" and error["message"].startswith("Receipt accepts only")
    assert "application/x-msdownload" in error["message"]
    # sent without naming the field, it is stored as what it is, and the field refuses its token
    loose = client.post(
        "/api/v1/attachments",
        data={"file": (io.BytesIO(EXE), "photo.png", "image/png")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert loose.status_code == 201 and loose.json["content_type"] == "application/x-msdownload"
    body = {"process": "t_payment", "customer": "C100", "data": {"receipt": loose.json["token"]}}
    created = client.post("/api/v1/cases", json=body, headers=headers)
    assert created.status_code == 422
    assert created.json["errors"][0]["pointer"] == "/data/receipt"
    assert "application/x-msdownload" in created.json["errors"][0]["message"]


def test_the_stored_type_is_the_contents_not_the_browsers(app, payment, customer, staff):
    response = _post(
        staff, {"/note": "x", "case_action": "draft"}, (io.BytesIO(PDF), "回单.pdf", "image/png")
    )
    assert response.status_code == 302
    [row] = _rows(app)
    assert row.content_type == "application/pdf"


# --- orphans --------------------------------------------------------------------------------


def test_the_upload_of_a_failed_post_is_deleted_by_tick_after_a_day(app, payment, customer, staff, cli):
    content = PDF + b"failed post"
    failed = _post(
        staff, {"/amount": "abc", "case_action": "submit"}, (io.BytesIO(content), "r.pdf", "application/pdf")
    )
    assert failed.status_code == 422
    [orphan] = _rows(app)
    assert orphan.case_id is None and _blob(app, content).exists()
    with app.app_context():
        early = uploads.remove_orphan_uploads(utcnow() + timedelta(hours=23))
        db.session.commit()
    assert early.uploads == 0 and _blob(app, content).exists()  # not a day old yet
    later = (utcnow() + timedelta(hours=25, minutes=30)).replace(microsecond=0).isoformat() + "+00:00"
    result = cli("tick", "--now", later)
    assert result.exit_code == 0, result.output
    assert re.search(r"remove_orphan_uploads: uploads 1 files [1-9]", result.output), result.output
    assert _rows(app) == [] and not _blob(app, content).exists()


def test_uploads_on_a_draft_or_a_case_are_never_deleted(app, payment, customer, in_app):
    def arrange():
        alice = new_user("alice")
        on_draft = uploads.store_upload(
            "/receipt", FileStorage(io.BytesIO(PDF + b"draft"), "d.pdf"), actor=alice
        )
        on_case = uploads.store_upload(
            "/receipt", FileStorage(io.BytesIO(PDF + b"case"), "c.pdf"), actor=alice
        )
        # the same content as the draft's file, on no case: its row goes, the shared file stays
        uploads.store_upload("/receipt", FileStorage(io.BytesIO(PDF + b"draft"), "again.pdf"), actor=alice)
        services.start("t_payment", "C100", {"receipt": on_draft}, submit=False, actor=alice)
        services.start(
            "t_payment", "C100", {"receipt": on_case, "amount": 5, "method": "bank"}, submit=True, actor=alice
        )
        for row in db.session.execute(sa.select(Attachment)).scalars():
            row.created_at = utcnow() - timedelta(days=30)  # long past the day

    in_app(arrange)
    with app.app_context():
        report = uploads.remove_orphan_uploads(utcnow() + timedelta(days=2))
        db.session.commit()
    assert report.uploads == 1
    kept = _rows(app)
    assert sorted(row.filename for row in kept) == ["c.pdf", "d.pdf"]
    assert all(row.case_id is not None for row in kept)
    assert _blob(app, PDF + b"draft").exists() and _blob(app, PDF + b"case").exists()
    with app.app_context():
        for row in kept:
            assert uploads.for_download(row.token, auth.find_user("alice")).id == row.id


def test_a_stored_file_no_attachment_names_goes_once_it_is_old_never_while_recent(app, payment):
    old, recent = PDF + b"rolled back long ago", PDF + b"rolled back just now"
    with app.app_context():
        uploader = new_user("alice")
        for content in (old, recent):
            uploads.store_upload("/receipt", FileStorage(io.BytesIO(content), "r.pdf"), actor=uploader)
        db.session.rollback()  # the request failed after storing: files without rows
        assert _blob(app, old).exists() and _blob(app, recent).exists()
        two_days_ago = time.time() - 2 * 24 * 3600
        os.utime(_blob(app, old), (two_days_ago, two_days_ago))
        report = uploads.remove_orphan_uploads()
    assert report.uploads == 0 and report.files >= 1
    assert not _blob(app, old).exists() and _blob(app, recent).exists()


def test_an_upload_past_its_day_can_no_longer_go_on_a_case(app, payment, customer):
    with app.app_context():
        alice = new_user("alice")
        token = uploads.store_upload("/receipt", FileStorage(io.BytesIO(PDF), "r.pdf"), actor=alice)
        uploads.by_tokens([token])[token].created_at = utcnow() - timedelta(hours=25)
        with pytest.raises(Invalid) as refused:
            services.start("t_payment", "C100", {"receipt": token}, submit=False, actor=alice)
        assert refused.value.errors[0]["pointer"] == "/data/receipt"


# --- the quota ------------------------------------------------------------------------------


@pytest.fixture
def one_mb_quota(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_QUOTA_MB", 1)


def _fill_quota(app, username: str, leave: int) -> None:
    """Store uploads of `username` up to `leave` bytes below the 1 MB quota."""
    with app.app_context():
        user = auth.find_user(username)
        filler = FileStorage(io.BytesIO(b"%PDF-1.4 " + b"0" * (1024 * 1024 - leave - 9)), "big.pdf")
        uploads.store_upload("/receipt", filler, actor=user)
        db.session.commit()


def test_an_upload_beyond_the_quota_is_refused_on_the_form_and_nothing_is_written(
    app, payment, customer, english_staff, one_mb_quota
):
    _fill_quota(app, english_staff.username, leave=100)
    fits = _post(
        english_staff,
        {"/note": "x", "case_action": "draft"},
        (io.BytesIO(PDF), "small.pdf", "application/pdf"),
    )
    assert fits.status_code == 302
    content = PDF + b"9" * 100
    refused = _post(
        english_staff,
        {"/note": "x", "case_action": "draft"},
        (io.BytesIO(content), "more.pdf", "application/pdf"),
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "This file would take your uploads beyond your quota of 1 MB" in page
    assert len(_rows(app)) == 2 and not _blob(app, content).exists()


def test_an_upload_beyond_the_quota_is_a_422_in_the_api(app, payment, customer, make_user, one_mb_quota):
    make_user("erp", roles=["staff"])
    _fill_quota(app, "erp", leave=10)
    content = PDF + b"api quota"
    refused = app.test_client().post(
        "/api/v1/attachments",
        data={"file": (io.BytesIO(content), "r.pdf", "application/pdf")},
        headers=_bearer(app, "erp"),
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert refused.json["errors"][0]["pointer"] == "/file"
    assert len(_rows(app)) == 1 and not _blob(app, content).exists()
    # another user has a quota of their own
    make_user("erp2", roles=["staff"])
    other = app.test_client().post(
        "/api/v1/attachments",
        data={"file": (io.BytesIO(content), "r.pdf", "application/pdf")},
        headers=_bearer(app, "erp2"),
        content_type="multipart/form-data",
    )
    assert other.status_code == 201
