"""Attachments: storing uploaded files by their sha256 and handing them out safely.

A file lives at `UPLOAD_FOLDER/ab/abcdef…` (its sha256), never under a name the client
chose and never under static/: the same content is stored once, and no request can
name a path. The form field's value is the attachment's `token`.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from formflow import audit
from formflow.auth.current import acting_user
from formflow.auth.permissions import can, require
from formflow.errors import Forbidden, Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.forms.filetypes import content_type, read_head
from formflow.forms.parsing import stream_size
from formflow.forms.rendering import name_files_with
from formflow.records.models import Attachment

TOKEN_PREFIX = "att_"
#: What a token looks like; anything else is not looked up at all.
TOKEN = re.compile(r"^att_[A-Za-z0-9_-]{28}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TEMPORARY_PREFIX = ".upload-"
_ASIDE_PREFIX = ".removing-"
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
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=_TEMPORARY_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        target = blob_path(digest.hexdigest())
        target.parent.mkdir(exist_ok=True)
        # Replaced even when the content is there already: the file's time then says it was
        # just uploaded, and the orphan clean-up leaves a recent file alone.
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return digest.hexdigest(), size


def store_upload(pointer: str, file: FileStorage, options: dict | None = None, *, actor=None) -> str:
    """The forms engine's upload callback: store `file` for the field at `pointer` and
    return the token the field's value becomes. The attachment belongs to no case until
    a case that refers to it is saved; until then only its uploader can see it (and after
    ORPHAN_HOURS without a case, `remove_orphan_uploads` deletes it).

    The forms engine has already checked the field's size and type limits (ui:options);
    Invalid when the file would take the uploader beyond their quota (nothing is written)."""
    actor = actor if actor is not None else acting_user()
    if not (can(actor, "cases.create") or can(actor, "cases.edit")):
        raise Forbidden()
    return new_attachment(file, field=pointer, actor=actor).token


def new_attachment(file: FileStorage, *, field: str, actor, case_id: int | None = None) -> Attachment:
    """Store `file` as an attachment uploaded by `actor` (on the case `case_id`, or on none
    yet): its type from its content, never the browser's word; audited. Invalid when the
    uploader's quota does not hold it, before anything is written."""
    size = stream_size(file.stream)
    refuse_beyond_quota(actor, size)
    filename = display_filename(file.filename)
    found = content_type(read_head(file.stream), filename)
    sha256, size = _write_blob(file.stream)
    attachment = Attachment(
        token=new_token(),
        case_id=case_id,
        field=field[:500],
        filename=filename,
        content_type=found,
        size=size,
        sha256=sha256,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    audit.record("attachment.upload", "attachment", attachment.id, after=snapshot(attachment), actor=actor)
    return attachment


# --- quota ----------------------------------------------------------------------------------


def stored_by(user) -> int:
    """The bytes of every upload `user` has stored (on cases or not yet)."""
    query = sa.select(sa.func.coalesce(sa.func.sum(Attachment.size), 0)).where(
        Attachment.uploaded_by_id == user.id
    )
    return int(db.session.execute(query).scalar_one())


def refuse_beyond_quota(user, size: int) -> None:
    """Invalid (at /file) when `size` more bytes would take `user`'s stored uploads beyond
    UPLOAD_QUOTA_MB (0: no quota). Two uploads at the same moment may each fit alone: the
    quota bounds what one person can pile up, it is not an exact allowance."""
    quota_mb = int(current_app.config.get("UPLOAD_QUOTA_MB") or 0)
    if quota_mb <= 0:
        return
    quota, used = quota_mb * 1024 * 1024, stored_by(user)
    if used + size > quota:
        message = _(
            "This file would take your uploads beyond your quota of %(quota)s (%(used)s stored); "
            "ask an administrator for more room.",
            quota=size_text(quota),
            used=size_text(used),
        )
        raise Invalid([{"pointer": "/file", "message": message}])


# --- orphans --------------------------------------------------------------------------------

#: Past ORPHAN_HOURS an orphan may no longer go on a case; it is deleted this much later, so
#: a request that took it just before the limit has long committed when the clean-up comes.
_DELETE_GRACE = timedelta(minutes=10)
_ORPHAN_BATCH = 500


def orphan_limit(now: datetime | None = None) -> datetime:
    """Uploads on no case created before this moment have expired."""
    hours = float(current_app.config.get("UPLOAD_ORPHAN_HOURS") or 24)
    return (now or utcnow()) - timedelta(hours=hours)


def expired(attachment: Attachment, now: datetime | None = None) -> bool:
    """Whether an upload on no case is past its time (about to be deleted: upload it again)."""
    return attachment.case_id is None and attachment.created_at <= orphan_limit(now)


@dataclass
class OrphanReport:
    """What one clean-up deleted: attachment rows, and files no attachment refers to."""

    uploads: int = 0
    files: int = 0


def remove_orphan_uploads(now: datetime | None = None) -> OrphanReport:
    """The scheduled job (`formflow tick`): delete the uploads that never went on a case
    (the form or API call that sent them failed, or a draft dropped them) once they are
    UPLOAD_ORPHAN_HOURS old, and the stored files no attachment refers to any more. An
    attachment on a case (a draft included) is never touched; commits as it goes."""
    now = now or utcnow()
    report = OrphanReport()
    before = orphan_limit(now) - _DELETE_GRACE
    while True:
        batch = list(
            db.session.execute(
                sa.select(Attachment)
                .where(Attachment.case_id.is_(None), Attachment.created_at <= before)
                .order_by(Attachment.id)
                .limit(_ORPHAN_BATCH)
            ).scalars()
        )
        for attachment in batch:
            facts = snapshot(attachment)
            # conditional: a case that took the file since it was read keeps it
            gone = db.session.execute(
                sa.delete(Attachment)
                .where(Attachment.id == attachment.id, Attachment.case_id.is_(None))
                .execution_options(synchronize_session=False)
            ).rowcount
            db.session.expunge(attachment)
            if gone:
                report.uploads += 1
                audit.record("attachment.delete", "attachment", attachment.id, before=facts, actor=None)
        db.session.commit()
        if len(batch) < _ORPHAN_BATCH:
            break
    report.files = _remove_unreferenced_files(before)
    return report


def _remove_unreferenced_files(before: datetime) -> int:
    """Delete the stored files older than `before` that no attachment names (orphans just
    deleted, uploads whose request was rolled back), and what broken writes or removals
    left. Another node sweeping at the same time is no error: a file gone is skipped."""
    folder = upload_folder()
    if not folder.is_dir():
        return 0
    limit = time.time() - (utcnow() - before).total_seconds()
    removed, candidates = 0, []
    shards = [Path(entry.path) for entry in os.scandir(folder) if len(entry.name) == 2 and entry.is_dir()]
    for shard in [folder, *shards]:
        for entry in os.scandir(shard):
            try:
                facts = entry.stat()
            except FileNotFoundError:
                continue
            # a rename keeps the time of the content but sets the change time: a file set
            # aside counts from then, so a removal in progress on another node is left alone
            leftover = entry.name.startswith(_TEMPORARY_PREFIX) and facts.st_mtime < limit
            leftover |= entry.name.startswith(_ASIDE_PREFIX) and facts.st_ctime < time.time() - 3600
            if leftover:
                Path(entry.path).unlink(missing_ok=True)
            elif shard != folder and _SHA256.match(entry.name) and facts.st_mtime < limit:
                candidates.append(entry)
    for start in range(0, len(candidates), _ORPHAN_BATCH):
        chunk = candidates[start : start + _ORPHAN_BATCH]
        named = set(
            db.session.execute(
                sa.select(Attachment.sha256).where(Attachment.sha256.in_([blob.name for blob in chunk]))
            ).scalars()
        )
        db.session.commit()  # read only: no transaction held while files go
        removed += sum(_remove_file(Path(blob.path), limit) for blob in chunk if blob.name not in named)
    return removed


def _remove_file(path: Path, limit: float) -> bool:
    """Delete a stored file unless an upload of the same content rewrote it meanwhile: it
    is renamed aside first (under a name of its own), and put back if it turns out to be
    recent (a new upload's row may not be committed yet, but its file is always new)."""
    aside = path.with_name(f"{_ASIDE_PREFIX}{path.name}-{secrets.token_hex(4)}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return False  # another node took it
    if aside.stat().st_mtime >= limit:
        os.replace(aside, path)
        return False
    aside.unlink(missing_ok=True)
    return True


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
