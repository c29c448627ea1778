"""The append-only, hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from formflow.extensions import db, utcnow

GENESIS_HASH = "0" * 64
#: heads (audit_head rows 1 … CHAINS, migration 0012): appends in concurrent transactions take
#: different chains instead of queueing on one row
CHAINS = 16


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    #: The order entries were written in, across chains.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The chain (its head is the audit_head row of this id); entries before 0012 are all chain 1.
    chain: Mapped[int] = mapped_column(default=1, server_default="1")
    #: Position in the chain: 1, 2, 3 … without gaps.
    seq: Mapped[int]
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

    __table_args__ = (
        db.Index("ix_audit_entry_object", "object_type", "object_id"),
        db.UniqueConstraint("chain", "seq"),
    )

    @property
    def position(self) -> str:
        """Where the entry sits, as people are shown it: "17" in chain 1, "3:17" in chain 3."""
        return str(self.seq) if self.chain == 1 else f"{self.chain}:{self.seq}"


class AuditHead(db.Model):
    """One row per chain (its id is the chain's number): the chain's last seq and hash. An append
    updates the head of a chain first, which serialises the appends to that chain, and lets
    `verify` notice rows cut from the end of it.

    Entries from `keyed_from_seq` on are HMACs under FORMFLOW_AUDIT_KEY; the ones before (chain 1
    only) were written unkeyed before migration 0007, which sealed them with `legacy_seal` (an
    HMAC of the last one's seq and hash), so they cannot be rewritten either. Triggers let a row
    only move forward (migrations 0007, 0012).
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    keyed_from_seq: Mapped[int] = mapped_column(default=1, server_default="1")
    legacy_seal: Mapped[str | None] = mapped_column(String(64))
