"""Writing, checking and reading the audit log."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context

from formflow.acting import acting_user
from formflow.audit.keying import audit_key, legacy_seal
from formflow.audit.models import CHAINS, GENESIS_HASH, AuditEntry, AuditHead
from formflow.errors import Conflict
from formflow.extensions import db, utcnow
from formflow.forms.pointers import join as pointer_join

SYSTEM_ACTOR = "system"
#: ends a value cut to fit its column (an actor name, a typed username as object id, …)
CUT_MARK = "…"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    """What a JSON column gives back: Decimal, dates and the like become strings."""
    return None if value is None else json.loads(canonical_json(value))


def _row_content(entry: AuditEntry) -> dict:
    """What an entry's hash covers: chain 1 (all entries from before 0012) without its number."""
    chain = {} if entry.chain == 1 else {"chain": entry.chain}
    return chain | {
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


def entry_hash(prev_hash: str, entry: AuditEntry, key: bytes | None) -> str:
    """HMAC-SHA256 under `key` of the previous hash and the row; plain SHA-256 when `key` is None
    (how entries were hashed before keying began, still accepted for those)."""
    message = (prev_hash + canonical_json(_row_content(entry))).encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _fit(column: sa.Column, value: str | None) -> str | None:
    """`value` cut to the column's length, ending with CUT_MARK when it was longer: the log takes
    whatever the app lets through (a 200-character username typed at the login form)."""
    limit = column.type.length
    if value is None or len(value) <= limit:
        return value
    return value[: limit - len(CUT_MARK)] + CUT_MARK


_ENTRIES, _HEAD = AuditEntry.__table__, AuditHead.__table__
_NEXT_SEQ = {"last_seq": _HEAD.c.last_seq + 1}
_CLAIMED = (_HEAD.c.id, _HEAD.c.last_seq, _HEAD.c.last_hash)
#: PostgreSQL: claims the next seq of the first chain no other transaction holds (this one's own
#: count as free), or, when all are held, waits for the chain `fallback`. The row lock lasts until
#: the transaction ends, so concurrent transactions append to different chains instead of queueing.
_CLAIM_FREE = (
    sa.update(_HEAD)
    .where(
        _HEAD.c.id
        == sa.func.coalesce(
            sa.select(_HEAD.c.id)
            .order_by(_HEAD.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery(),
            sa.bindparam("fallback"),
        )
    )
    .values(_NEXT_SEQ)
    .returning(*_CLAIMED)
)
#: SQLite: one writer at a time holds the database's write lock anyway: chain 1
_CLAIM_FIRST = sa.update(_HEAD).where(_HEAD.c.id == 1).values(_NEXT_SEQ).returning(*_CLAIMED)
_APPEND = sa.insert(_ENTRIES).returning(_ENTRIES.c.id)
#: the head may only name an entry that exists (trigger of migration 0007): after the insert
_POINT_HEAD = (
    sa.update(_HEAD).where(_HEAD.c.id == sa.bindparam("chain")).values(last_hash=sa.bindparam("hash"))
)
_APPENDED = (
    sa.insert(_ENTRIES)
    .values(
        {
            column.name: sa.bindparam(column.name, type_=column.type)
            for column in _ENTRIES.c
            if column.name != "id"
        }
    )
    .returning(_ENTRIES.c.id, _ENTRIES.c.hash)
    .cte("appended")
)
#: PostgreSQL: _APPEND and _POINT_HEAD in one round trip (the head is locked until the
#: transaction ends: the fewer round trips after the claim, the sooner the next append goes).
#: The head's new hash is read from the CTE, so the insert runs first and the head's trigger
#: finds the entry.
_APPEND_AND_POINT_HEAD = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == sa.bindparam("chain"))
    .values(last_hash=sa.select(_APPENDED.c.hash).scalar_subquery())
    .returning(sa.select(_APPENDED.c.id).scalar_subquery())
    .add_cte(_APPENDED)
)


def _claim(connection: sa.Connection):
    if connection.dialect.name == "postgresql":
        return connection.execute(_CLAIM_FREE, {"fallback": secrets.randbelow(CHAINS) + 1}).one()
    return connection.execute(_CLAIM_FIRST).one()


def record(
    action: str,
    object_type: str,
    object_id: Any,
    *,
    before: Any = None,
    after: Any = None,
    actor: Any = None,
) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction; the entry is returned as
    written (not attached to the session).

    `actor` defaults to the logged-in user of the current request, else "system".
    """
    actor = actor if actor is not None else acting_user()
    columns = _ENTRIES.c
    db.session.flush()  # what the caller changed is written before its entry, as it always was
    connection = db.session.connection()
    claimed = _claim(connection)
    entry = AuditEntry(
        chain=claimed.id,
        seq=claimed.last_seq,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=_fit(columns.actor_name, getattr(actor, "username", None) or SYSTEM_ACTOR),
        action=_fit(columns.action, action),
        object_type=_fit(columns.object_type, object_type),
        object_id=_fit(columns.object_id, str(object_id)),
        before=_plain(before),
        after=_plain(after),
        request_id=_fit(columns.request_id, g.get("request_id") if has_request_context() else None),
        prev_hash=claimed.last_hash,
    )
    entry.hash = entry_hash(entry.prev_hash, entry, audit_key())
    row = _row_content(entry) | {
        "chain": entry.chain,
        "at": entry.at,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
    if connection.dialect.name == "postgresql":
        entry.id = connection.execute(_APPEND_AND_POINT_HEAD, row).scalar_one()
    else:
        entry.id = connection.execute(_APPEND, row).scalar_one()
        connection.execute(_POINT_HEAD, row)
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    bad_id: int | None = None
    reason: str = ""
    #: the chain of bad_seq
    chain: int = 1

    @property
    def position(self) -> str:
        """As AuditEntry.position: "3", or "2:3" in chain 2."""
        return str(self.bad_seq) if self.chain == 1 else f"{self.chain}:{self.bad_seq}"

    @property
    def where(self) -> str:
        """The bad row as a person is told it: "seq 3 (id 7)", "chain 2 seq 3 (id 9)"."""
        chain = f"chain {self.chain} " if self.chain != 1 else ""
        row = f" (id {self.bad_id})" if self.bad_id is not None else ""
        return f"{chain}seq {self.bad_seq}{row}"


@dataclass(frozen=True)
class Anchor:
    """What the chains held at one moment, kept outside the database (a daily e-mail, a ticket):
    a later `verify` against it notices entries cut from the end, which nothing left inside can
    show. `counts[i]` is chain i+1's length (trailing empty chains left out); `hash` is chain 1's
    last hash while only chain 1 is counted (anchors from before there were chains read the
    same), else the SHA-256 of the counted chains' last hashes."""

    hash: str
    counts: tuple[int, ...]

    @property
    def count(self) -> int:
        return sum(self.counts)

    def __str__(self) -> str:
        return f"{self.hash}:{'.'.join(str(count) for count in self.counts)}"


def _anchor_hash(last_hashes: list[str]) -> str:
    if len(last_hashes) == 1:
        return last_hashes[0]
    return hashlib.sha256(":".join(last_hashes).encode()).hexdigest()


_ANCHOR = re.compile(rf"([0-9a-f]{{64}}):(\d{{1,18}}(?:\.\d{{1,18}}){{0,{CHAINS - 1}}})")


def parse_anchor(text: str) -> Anchor:
    """`HASH:COUNT` or `HASH:COUNT.COUNT…` (a count per chain) as `audit anchor` prints it;
    ValueError otherwise."""
    match = _ANCHOR.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(
            "expected HASH:COUNTS as `audit anchor` prints it "
            "(64 hex digits, ':', a count per chain joined by '.')"
        )
    return Anchor(match.group(1), tuple(int(count) for count in match.group(2).split(".")))


def _heads() -> list[AuditHead]:
    return list(db.session.execute(sa.select(AuditHead).order_by(AuditHead.id)).scalars())


def current_anchor() -> Anchor:
    """The heads as an anchor; Conflict when a head and its chain's last entry disagree (run verify)."""
    heads = _heads()
    for head in heads:
        last = db.session.execute(
            sa.select(AuditEntry.hash).where(AuditEntry.chain == head.id, AuditEntry.seq == head.last_seq)
        ).scalar()
        if head.last_seq and last != head.last_hash:
            where = f"chain {head.id} seq {head.last_seq}" if head.id != 1 else f"seq {head.last_seq}"
            raise Conflict(f"the head names {where}, whose entry does not match it: run audit verify")
    counted = heads[: max([head.id for head in heads if head.last_seq] or [1])]
    return Anchor(
        _anchor_hash([head.last_hash for head in counted]), tuple(head.last_seq for head in counted)
    )


def verify(anchor: Anchor | None = None) -> VerifyResult:
    """Walk each chain in seq order; report the first row that is not what was written, or that
    the log no longer holds what `anchor` saw."""
    key, checked, walks = audit_key(), 0, []
    heads = _heads()
    if anchor is not None and len(anchor.counts) > len(heads):
        reason = (
            f"the anchor counts {len(anchor.counts)} chains, the log has {len(heads)}: heads were deleted"
        )
        return VerifyResult(False, 0, None, None, reason)
    for head in heads:
        at = anchor.counts[head.id - 1] if anchor is not None and head.id <= len(anchor.counts) else None
        walk = _Walk(key, head, at)
        rows = db.session.execute(
            sa.select(AuditEntry)
            .where(AuditEntry.chain == head.id)
            .order_by(AuditEntry.seq)
            .execution_options(yield_per=500)
        ).scalars()
        try:
            broken = walk.first_break(rows)
        finally:
            rows.close()  # a server-side cursor on PostgreSQL when we stop early
        if broken:
            broken.checked += checked
            return broken
        checked += walk.checked
        if head.last_seq != walk.checked or head.last_hash != walk.last_hash:
            written = head.last_seq
            reason = (
                f"the chain ends at seq {walk.checked} but {written} entries were written: rows were deleted"
            )
            return VerifyResult(False, checked, walk.checked + 1, None, reason, head.id)
        walks.append(walk)
    if anchor is not None:
        return _against_anchor(anchor, walks[: len(anchor.counts)], checked)
    return VerifyResult(True, checked)


def _against_anchor(anchor: Anchor, walks: list[_Walk], checked: int) -> VerifyResult:
    for walk in walks:
        if walk.checked < walk.anchor_seq:
            chain = f"chain {walk.head.id} of the log" if walk.head.id != 1 else "the log"
            counted = walk.anchor_seq
            reason = f"{chain} has {walk.checked} entries, the anchor counted {counted}: entries were cut off"
            return VerifyResult(False, checked, walk.checked + 1, None, reason, walk.head.id)
    if _anchor_hash([walk.hash_at_anchor for walk in walks]) != anchor.hash:
        reason = "the hash here differs from the anchor's: the log was rewritten up to here"
        last = walks[-1]
        return VerifyResult(False, checked, last.anchor_seq, None, reason, last.head.id)
    return VerifyResult(True, checked)


class _Walk:
    """One pass over a chain: seqs without gaps, each prev_hash the previous hash, each hash
    recomputed (unkeyed before `keyed_from_seq`, where the legacy seal vouches for the prefix)."""

    def __init__(self, key: bytes, head: AuditHead, anchor_seq: int | None):
        self.key, self.head, self.anchor_seq = key, head, anchor_seq
        self.keyed_from = head.keyed_from_seq
        self.checked, self.last_hash = 0, GENESIS_HASH
        self.hash_at_anchor = GENESIS_HASH if anchor_seq == 0 else None

    def first_break(self, rows) -> VerifyResult | None:
        for entry in rows:
            reason = self._problem(entry, expected_seq=self.checked + 1)
            if reason:
                return VerifyResult(False, self.checked, entry.seq, entry.id, reason, self.head.id)
            self.checked, self.last_hash = entry.seq, entry.hash
            if entry.seq == self.anchor_seq:
                self.hash_at_anchor = entry.hash
        return None

    def _problem(self, entry: AuditEntry, *, expected_seq: int) -> str | None:
        keyed = entry.seq >= self.keyed_from
        if entry.seq != expected_seq:
            return f"expected seq {expected_seq}, found {entry.seq}: rows were deleted or reordered"
        if entry.prev_hash != self.last_hash:
            return "prev_hash does not match the previous row: rows were deleted or reordered"
        if entry_hash(entry.prev_hash, entry, self.key if keyed else None) != entry.hash:
            if entry.seq == self.keyed_from:  # every keyed row fails from here if the key changed
                return (
                    "content does not match its hash: row was edited, "
                    "or FORMFLOW_AUDIT_KEY is not the key that wrote it"
                )
            return "content does not match its hash: row was edited"
        if entry.seq == self.keyed_from - 1 and self.head.legacy_seal != legacy_seal(
            self.key, entry.seq, entry.hash
        ):
            return (
                f"the entries up to seq {entry.seq}, hashed before keying began, do not match their seal: "
                "rewritten, or FORMFLOW_AUDIT_KEY is not the key that sealed them"
            )
        return None


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


def page(filters: AuditFilter, *, before_id: int | None, size: int) -> tuple[list[AuditEntry], int | None]:
    """Newest first, keyset-paginated on id (the order of writing, across chains); returns the
    rows and the next cursor."""
    query = filters.apply(sa.select(AuditEntry))
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = list(db.session.execute(query.order_by(AuditEntry.id.desc()).limit(size + 1)).scalars())
    next_cursor = rows[size - 1].id if len(rows) > size else None
    return rows[:size], next_cursor


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
