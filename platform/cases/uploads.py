"""Attachments: storing uploaded files by their sha256 and handing them out safely.

A file lives at `UPLOAD_FOLDER/ab/abcdef…` (its sha256), never under a name the client
chose and never under static/: the same content is stored once, and no request can
name a path. The form field's value is the attachment's `token`.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import secrets
import tempfile
import unicodedata
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import FileStorage

from formflow import audit
from formflow.auth.current import acting_user
from formflow.auth.permissions import can, require
from formflow.cases.models import Attachment
from formflow.errors import Forbidden, NotFound
from formflow.extensions import db
from formflow.forms.rendering import name_files_with

TOKEN_PREFIX = "att_"
#: What a token looks like; anything else is not looked up at all.
TOKEN = re.compile(r"^att_[A-Za-z0-9_-]{28}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_CHUNK = 64 * 1024
_FILENAME_LIMIT = 255
#: Characters Windows refuses in names, plus both path separators.
_RESERVED = set('<>:"|?*/\\')
#: Types a browser would run or render as a page: always downloaded as plain bytes.
_ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "text/ecmascript",
    "text/xml",
    "application/xml",
    "text/xsl",
    "application/xslt+xml",
    "application/wasm",
    "application/x-shockwave-flash",
    "multipart/x-mixed-replace",
}


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(21)


def display_filename(raw: str | None) -> str:
    """The client's filename, safe to show and to put in a header: the last path part
    only, without control, formatting (bidi overrides) or reserved characters. Unlike
    werkzeug's secure_filename it keeps CJK and other letters (报销单.pdf stays)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        ch for ch in name if ch not in _RESERVED and unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    )
    name = " ".join(name.split()).strip(" .")
    if len(name) > _FILENAME_LIMIT:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext) <= 16 else ""
        name = (stem if ext else name)[: _FILENAME_LIMIT - len(ext) - 1].rstrip(" .") + (
            f".{ext}" if ext else ""
        )
    return name or "file"


def _media_type(file: FileStorage, filename: str) -> str:
    given = (file.mimetype or "").strip().lower()
    if _MEDIA_TYPE.match(given) and given != "application/octet-stream":
        return given
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]).resolve()


def blob_path(sha256: str) -> Path:
    """Where content with this digest lives. Built from the digest alone."""
    if not _SHA256.match(sha256):
        raise ValueError("not a sha256 hex digest")
    return upload_folder() / sha256[:2] / sha256


def _write_blob(stream) -> tuple[str, int]:
    """Copy the stream into the store, hashing as it goes; returns (sha256, size)."""
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    # A temporary file in the same folder, then an atomic rename: a reader never sees
    # half a file, and two uploads of the same content both end with the same bytes.
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        target = blob_path(digest.hexdigest())
        target.parent.mkdir(exist_ok=True)
        if target.exists():
            os.unlink(temporary)
        else:
            os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return digest.hexdigest(), size


def store_upload(pointer: str, file: FileStorage, options: dict | None = None, *, actor=None) -> str:
    """The forms engine's upload callback: store `file` for the field at `pointer` and
    return the token the field's value becomes. The attachment belongs to no case until
    a case that refers to it is saved; until then only its uploader can see it.

    The forms engine has already checked the field's size and type limits (ui:options)."""
    actor = actor if actor is not None else acting_user()
    if not (can(actor, "cases.create") or can(actor, "cases.edit")):
        raise Forbidden()
    filename = display_filename(file.filename)
    sha256, size = _write_blob(file.stream)
    attachment = Attachment(
        token=new_token(),
        field=pointer[:500],
        filename=filename,
        content_type=_media_type(file, filename),
        size=size,
        sha256=sha256,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    audit.record("attachment.upload", "attachment", attachment.id, after=snapshot(attachment), actor=actor)
    return attachment.token


def snapshot(attachment: Attachment) -> dict:
    return {
        "token": attachment.token,
        "field": attachment.field,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "case_id": attachment.case_id,
    }


def by_tokens(tokens) -> dict[str, Attachment]:
    tokens = sorted({t for t in tokens if TOKEN.match(t)})
    if not tokens:
        return {}
    rows = db.session.execute(sa.select(Attachment).where(Attachment.token.in_(tokens))).scalars()
    return {row.token: row for row in rows}


def file_names(tokens) -> dict[str, str]:
    """token -> file name of the attachments the acting user may read: what a file field
    shows it holds, e.g. after a form error (registered with the forms engine below)."""
    user = acting_user()
    return {
        token: found.filename for token, found in by_tokens(tokens).items() if can(user, "cases.read", found)
    }


name_files_with(file_names)


def for_download(token: str, user) -> Attachment:
    """The attachment behind `token` if `user` may read it: NotFound for anything that
    is not a token we issued (`../../etc/passwd` never reaches the file system)."""
    attachment = by_tokens([token]).get(token) if TOKEN.match(token) else None
    if attachment is None:
        raise NotFound()
    require(user, "cases.read", attachment)
    if not blob_path(attachment.sha256).is_file():
        current_app.logger.error("attachment %s: file %s is missing", attachment.id, attachment.sha256)
        raise NotFound()
    return attachment


def served_type(content_type: str) -> str:
    """The Content-Type to send: never one a browser would render as a page or run."""
    media_type = content_type.split(";")[0].strip().lower()
    active = (
        media_type in _ACTIVE_TYPES
        or media_type.endswith("+xml")
        or "html" in media_type
        or "script" in media_type
        or not _MEDIA_TYPE.match(media_type)
    )
    return "application/octet-stream" if active else media_type


def size_text(size: int | None) -> str:
    """A file's size as people read it, in their language: "17 字节" / "17 bytes", "1.2 MB"
    (what the `filesizeformat` filter shows; Jinja's own says "Bytes" in every language)."""
    from flask_babel import format_decimal, ngettext

    if size is None:
        return "—"
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    for unit, scale in (("KB", 1024), ("MB", 1024**2), ("GB", 1024**3)):
        if size < scale * 1024 or unit == "GB":
            return f"{format_decimal(size / scale, format='#,##0.#')} {unit}"
    return str(size)  # not reached
