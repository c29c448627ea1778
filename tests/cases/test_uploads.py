"""Attachments: stored by sha256 outside static, linked to the case that names them,
downloaded only by those who may see them and never rendered by the browser."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from cases.cases_support import new_user, read_form
from werkzeug.datastructures import FileStorage, MultiDict

from formflow.cases import services, uploads
from formflow.cases.models import Attachment
from formflow.errors import Invalid
from formflow.extensions import db

NEW = "/cases/new?process=t_payment&customer=C100"
PDF = b"%PDF-1.4 a tiny receipt\n"


def _file(content=PDF, name="回单 2026.pdf", content_type="application/pdf"):
    return (io.BytesIO(content), name, content_type)


def _post(client, url, fields, **files):
    data = {"csrf_token": client.csrf_token("/"), **fields, **files}
    return client.raw.post(url, data=data, content_type="multipart/form-data")


def _attachments(app) -> list[Attachment]:
    with app.app_context():
        rows = list(db.session.execute(sa.select(Attachment).order_by(Attachment.id)).scalars())
        for row in rows:
            db.session.expunge(row)
        return rows


def _download(client, token):
    """GET the attachment; the response is read and closed (send_file holds the file open)."""
    response = client.get(f"/cases/attachments/{token}")
    response.get_data()
    response.close()
    return response


def _case_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/cases/(\d+)$", response.headers["Location"]).group(1))


def test_an_upload_is_stored_by_its_sha256_and_linked_to_the_case(app, payment, customer, staff):
    fields = {"/amount": "5", "/method": "bank", "case_action": "submit"}
    case_id = _case_id(_post(staff, NEW, fields, **{"/receipt": _file()}))
    [attachment] = _attachments(app)
    digest = hashlib.sha256(PDF).hexdigest()
    stored = Path(app.config["UPLOAD_FOLDER"]) / digest[:2] / digest
    assert stored.read_bytes() == PDF
    assert (attachment.sha256, attachment.size, attachment.case_id) == (digest, len(PDF), case_id)
    assert (attachment.filename, attachment.content_type, attachment.field) == (
        "回单 2026.pdf",
        "application/pdf",
        "/receipt",
    )
    with app.app_context():
        assert services.get(case_id).data["receipt"] == attachment.token
    static = Path(app.static_folder).resolve()
    assert static not in stored.resolve().parents
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/cases/attachments/{attachment.token}" in page and "回单 2026.pdf" in page


def test_same_content_is_stored_once(app, payment, customer, staff):
    for _ in range(2):
        _post(staff, NEW, {"/note": "dup", "case_action": "draft"}, **{"/receipt": _file()})
    first, second = _attachments(app)
    assert first.sha256 == second.sha256 and first.token != second.token
    folder = Path(app.config["UPLOAD_FOLDER"]) / first.sha256[:2]
    assert [p.name for p in folder.iterdir()] == [first.sha256]


def test_download_is_an_attachment_with_a_cjk_filename_and_nosniff(app, payment, customer, staff):
    _case_id(_post(staff, NEW, {"/note": "x", "case_action": "draft"}, **{"/receipt": _file()}))
    [attachment] = _attachments(app)
    response = _download(staff, attachment.token)
    assert response.status_code == 200 and response.data == PDF
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%9B%9E%E5%8D%95%202026.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("page.html", "text/html"), ("logo.svg", "image/svg+xml"), ("x.js", "text/javascript"), ("p.xhtml", "")],
)
def test_active_content_is_never_served_as_itself(app, client, name, content_type):
    with app.app_context():
        owner = new_user("uploader")
        upload = FileStorage(io.BytesIO(b"<script>alert(1)</script>"), name, content_type=content_type)
        token = uploads.store_upload("/receipt", upload, {}, actor=owner)
        db.session.commit()
    client.login("uploader")
    response = _download(client, token)
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_an_unlinked_upload_is_only_for_its_uploader(app, payment, customer, staff, login_as):
    response = _post(staff, NEW, {"/amount": "abc", "case_action": "submit"}, **{"/receipt": _file()})
    assert response.status_code == 422  # the case failed; the upload was kept for the next try
    [attachment] = _attachments(app)
    assert attachment.case_id is None
    assert _download(staff, attachment.token).status_code == 200
    for role in ("staff", "admin", "auditor"):
        assert login_as(role).get(f"/cases/attachments/{attachment.token}").status_code == 403


def test_a_linked_attachment_is_for_everyone_who_may_read_the_case(app, payment, customer, staff, login_as):
    case_id = _case_id(_post(staff, NEW, {"/note": "x", "case_action": "draft"}, **{"/receipt": _file()}))
    [attachment] = _attachments(app)
    # a draft's evidence is its author's (and administrators')
    assert _download(login_as("auditor"), attachment.token).status_code == 403
    assert _download(login_as("admin"), attachment.token).status_code == 200
    submitted = staff.post_form(
        f"/cases/{case_id}/edit", {"/amount": "5", "/method": "cash", "/receipt": attachment.token,
                                   "case_action": "submit"},
    )  # fmt: skip
    assert submitted.status_code == 302
    assert _download(login_as("auditor"), attachment.token).status_code == 200
    assert _download(login_as("staff"), attachment.token).status_code == 403  # another staff member


def test_the_failed_form_keeps_the_upload_and_the_retry_links_it(app, payment, customer, staff):
    failed = _post(staff, NEW, {"/amount": "abc", "case_action": "submit"}, **{"/receipt": _file()})
    assert failed.status_code == 422
    [attachment] = _attachments(app)
    fields = MultiDict(read_form(failed.get_data(as_text=True)).fields)
    assert attachment.token in fields.getlist("/receipt")
    fields.setlist("/amount", ["5"])
    fields.setlist("/method", ["cash"])
    fields.add("case_action", "submit")
    retry = staff.raw.post(NEW, data=fields, content_type="multipart/form-data")
    case_id = _case_id(retry)
    [linked] = _attachments(app)
    assert linked.id == attachment.id and linked.case_id == case_id


@pytest.mark.parametrize(
    "token",
    [
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "att_" + "A" * 28,
        "%2e%2e",
        "att_../../../../etc/passwd00",
    ],
)
def test_crafted_tokens_are_not_found(app, staff, token):
    response = _download(staff, token)
    assert response.status_code == 404


def test_too_large_or_wrong_type_is_an_error_at_the_field(app, payment, customer, staff):
    big = _post(
        staff, NEW, {"/note": "x", "case_action": "draft"}, **{"/receipt": _file(b"x" * 4096, "big.pdf")}
    )
    wrong = _post(
        staff, NEW, {"/note": "x", "case_action": "draft"}, **{"/receipt": _file(b"MZ", "tool.exe", "")}
    )
    for response in (big, wrong):
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert 'id="receipt-error"' in html or re.search(r'id="[^"]*receipt[^"]*-error"', html)
    assert _attachments(app) == []


def test_someone_elses_upload_cannot_be_put_on_a_case(app, payment, customer):
    with app.app_context():
        alice, mallory = new_user("alice"), new_user("mallory")
        token = uploads.store_upload(
            "/receipt", FileStorage(io.BytesIO(PDF), "a.pdf", content_type="application/pdf"), {}, actor=alice
        )
        with pytest.raises(Invalid) as raised:
            services.start("t_payment", "C100", {"receipt": token}, submit=False, actor=mallory)
        assert raised.value.errors == [
            {"pointer": "/data/receipt", "message": raised.value.errors[0]["message"]}
        ]
        mine = services.start("t_payment", "C100", {"receipt": token}, submit=False, actor=alice)
        # Linked to alice's case now: nobody else may put it on another case, alice neither.
        with pytest.raises(Invalid):
            services.start("t_payment", "C100", {"note": token}, submit=False, actor=alice)
        assert [a.token for a in mine.attachments] == [token]


def test_a_draft_that_drops_a_file_gives_it_back_to_its_uploader(app, payment, customer):
    with app.app_context():
        alice = new_user("alice")
        token = uploads.store_upload("/receipt", FileStorage(io.BytesIO(PDF), "a.pdf"), {}, actor=alice)
        case = services.start("t_payment", "C100", {"receipt": token}, submit=False, actor=alice)
        services.save(case, {"note": "no file"}, submit=False, actor=alice)
        assert case.attachments == []
        again = services.start("t_payment", "C100", {"receipt": token}, submit=False, actor=alice)
        assert [a.token for a in again.attachments] == [token]


def test_an_unknown_token_in_the_data_is_invalid(app, payment, customer):
    with app.app_context():
        alice = new_user("alice")
        with pytest.raises(Invalid) as raised:
            services.start("t_payment", "C100", {"receipt": "att_" + "x" * 28}, submit=False, actor=alice)
        assert raised.value.errors[0]["pointer"] == "/data/receipt"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("报销单.pdf", "报销单.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\合同 v2.docx", "合同 v2.docx"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("line\r\nbreak.txt", "linebreak.txt"),
        ('a<b>:"c"|?*.txt', "abc.txt"),
        ("...", "file"),
        ("", "file"),
        ("  spaced   name .pdf ", "spaced name .pdf"),
    ],
)
def test_display_filenames_are_sanitised_but_keep_cjk(raw, shown):
    assert uploads.display_filename(raw) == shown


def test_a_very_long_filename_keeps_its_extension():
    name = uploads.display_filename("长" * 400 + ".pdf")
    assert len(name) == 255 and name.endswith(".pdf")
