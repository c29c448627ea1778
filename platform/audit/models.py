"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from formflow.extensions import db, utcnow

GENESIS_HASH = "0" * 64


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the chain: 1, 2, 3 … without gaps.
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_name: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(100), index=True)
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (db.Index("ix_audit_entry_object", "object_type", "object_id"),)


class AuditHead(db.Model):
    """One row: the last seq and hash. Updating it first serialises appends and lets
    `verify` notice rows cut from the end of the chain.

    Entries from `keyed_from_seq` on are HMACs under FORMFLOW_AUDIT_KEY; the ones before were
    written unkeyed before migration 0007, which sealed them with `legacy_seal` (an HMAC of the
    last one's seq and hash), so they cannot be rewritten either. Triggers let the row only move
    forward (migration 0007).
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    keyed_from_seq: Mapped[int] = mapped_column(default=1, server_default="1")
    legacy_seal: Mapped[str | None] = mapped_column(String(64))
