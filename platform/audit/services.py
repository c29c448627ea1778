"""Writing, checking and reading the audit log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context

from formflow.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from formflow.auth.current import acting_user
from formflow.csvexport import csv_chunks, safe_cell
from formflow.extensions import db, utcnow
from formflow.forms.pointers import join as pointer_join

SYSTEM_ACTOR = "system"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    """What a JSON column gives back: Decimal, dates and the like become strings."""
    return None if value is None else json.loads(canonical_json(value))


def _row_content(entry: AuditEntry) -> dict:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "request_id": entry.request_id,
    }


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + canonical_json(_row_content(entry))).encode()).hexdigest()


def record(
    action: str,
    object_type: str,
    object_id: Any,
    *,
    before: Any = None,
    after: Any = None,
    actor: Any = None,
) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction.

    `actor` defaults to the logged-in user of the current request, else "system".
    """
    actor = actor if actor is not None else acting_user()
    # Claim the next seq by updating the head row first: on PostgreSQL the row lock
    # makes concurrent appends wait for each other; on SQLite the write lock does.
    claimed = db.session.execute(
        sa.update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_seq=AuditHead.last_seq + 1)
        .returning(AuditHead.last_seq, AuditHead.last_hash)
        .execution_options(synchronize_session=False)
    ).one()
    entry = AuditEntry(
        seq=claimed.last_seq,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_plain(before),
        after=_plain(after),
        request_id=g.get("request_id") if has_request_context() else None,
        prev_hash=claimed.last_hash,
    )
    entry.hash = entry_hash(entry.prev_hash, entry)
    db.session.add(entry)
    db.session.execute(
        sa.update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_hash=entry.hash)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    bad_id: int | None = None
    reason: str = ""


def verify() -> VerifyResult:
    """Walk the chain in seq order; report the first row that is not what was written."""
    rows = db.session.execute(
        sa.select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=500)
    ).scalars()
    try:
        broken, checked, last_hash = _first_break(rows)
    finally:
        rows.close()  # a server-side cursor on PostgreSQL when we stop early
    if broken:
        return broken
    head = db.session.get(AuditHead, 1)
    if head is None or head.last_seq != checked or head.last_hash != last_hash:
        written = head.last_seq if head else "?"
        reason = f"the chain ends at seq {checked} but {written} entries were written: rows were deleted"
        return VerifyResult(False, checked, checked + 1, None, reason)
    return VerifyResult(True, checked)


def _first_break(rows) -> tuple[VerifyResult | None, int, str]:
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for entry in rows:
        reason = None
        if entry.seq != expected_seq:
            reason = f"expected seq {expected_seq}, found {entry.seq}: rows were deleted or reordered"
        elif entry.prev_hash != expected_prev:
            reason = "prev_hash does not match the previous row: rows were deleted or reordered"
        elif entry_hash(entry.prev_hash, entry) != entry.hash:
            reason = "content does not match its hash: row was edited"
        if reason:
            return VerifyResult(False, checked, entry.seq, entry.id, reason), checked, expected_prev
        expected_prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    return None, checked, expected_prev


@dataclass
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: sa.Select) -> sa.Select:
        if self.actor:
            query = query.where(AuditEntry.actor_name == self.actor)
        if self.action:
            query = query.where(AuditEntry.action.startswith(self.action, autoescape=True))
        if self.object_type:
            query = query.where(AuditEntry.object_type == self.object_type)
        if self.object_id:
            query = query.where(AuditEntry.object_id == self.object_id)
        if self.since:
            query = query.where(AuditEntry.at >= self.since)
        if self.until:
            query = query.where(AuditEntry.at < self.until)
        return query


def page(filters: AuditFilter, *, before_seq: int | None, size: int) -> tuple[list[AuditEntry], int | None]:
    """Newest first, keyset-paginated on seq; returns the rows and the next cursor."""
    query = filters.apply(sa.select(AuditEntry))
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    rows = list(db.session.execute(query.order_by(AuditEntry.seq.desc()).limit(size + 1)).scalars())
    next_cursor = rows[size - 1].seq if len(rows) > size else None
    return rows[:size], next_cursor


CSV_COLUMNS = [
    "seq",
    "at",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "request_id",
    "prev_hash",
    "hash",
]


def export_csv(filters: AuditFilter, *, tz: tzinfo) -> Iterator[str]:
    """The filtered log as CSV text chunks, oldest first, streamed in batches.

    Starts with a UTF-8 byte order mark (Excel on Chinese Windows reads the file as UTF-8 only
    then); `at` is in `tz` with its offset, as the pages show it. Cells that start like a formula
    get a leading ' (so a hash is recomputed from the stored row, not from such a cell).
    """
    query = filters.apply(sa.select(AuditEntry)).order_by(AuditEntry.seq)

    def rows() -> Iterator[list[str]]:
        for entry in db.session.execute(query.execution_options(yield_per=500)).scalars():
            row = _row_content(entry) | {"prev_hash": entry.prev_hash, "hash": entry.hash}
            row["at"] = entry.at.replace(tzinfo=UTC).astimezone(tz).isoformat(timespec="microseconds")
            for column in ("before", "after"):
                row[column] = None if row[column] is None else canonical_json(row[column])
            yield [safe_cell(row[c]) for c in CSV_COLUMNS]

    return csv_chunks(CSV_COLUMNS, rows(), every=500)


@dataclass(frozen=True)
class FieldChange:
    """One field an entry touched: its JSON Pointer and the value before and after as text
    (None: the field was not there)."""

    pointer: str
    before: str | None
    after: str | None


def changes(entry: AuditEntry) -> list[FieldChange]:
    """What `entry` changed, field by field: nested objects flattened to pointers (lists and
    scalars compared whole), fields equal before and after left out."""
    before, after = _flatten(entry.before), _flatten(entry.after)
    changed = []
    for pointer in sorted(before.keys() | after.keys()):
        old, new = before.get(pointer, _ABSENT), after.get(pointer, _ABSENT)
        if old != new or type(old) is not type(new):  # 1 == True == 1.0, yet they differ here
            changed.append(FieldChange(pointer, _as_text(old), _as_text(new)))
    return changed


_ABSENT = object()


def _flatten(value: Any, pointer: str = "") -> dict[str, Any]:
    if value is None and not pointer:
        return {}  # no before (a creation) or no after
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat |= _flatten(inner, pointer_join(pointer, key))
        return flat
    return {pointer: value}


def _as_text(value: Any) -> str | None:
    if value is _ABSENT:
        return None
    return value if isinstance(value, str) and value else canonical_json(value)  # "" shows as ""
