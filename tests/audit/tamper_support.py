"""What an attacker with database access (and without FORMFLOW_AUDIT_KEY) can do to the audit log:
drop the append-only triggers, edit rows, recompute the chain the old, unkeyed way."""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa

from formflow.extensions import db

GENESIS = "0" * 64


def drop_guards(app) -> None:
    """Drop the triggers on audit_entry and audit_head (inside the test's rolled-back transaction)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            rows = db.session.execute(
                sa.text(
                    "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal"
                    " AND tgrelid IN ('audit_entry'::regclass, 'audit_head'::regclass)"
                )
            ).all()
            statements = [f'DROP TRIGGER "{name}" ON {table}' for name, table in rows]
        else:
            names = db.session.execute(
                sa.text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                    " AND tbl_name IN ('audit_entry', 'audit_head')"
                )
            ).scalars()
            statements = [f'DROP TRIGGER "{name}"' for name in names]
        for statement in statements:
            db.session.execute(sa.text(statement))
        db.session.commit()


def old_hash(prev_hash: str, row) -> str:
    """The unkeyed SHA-256 of a row as the log computed it before keying (prev_hash + canonical JSON)."""
    content = {
        "seq": row.seq,
        "at": row.at.isoformat(timespec="microseconds"),
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "before": row.before,
        "after": row.after,
        "request_id": row.request_id,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


def recompute_unkeyed(app, from_seq: int = 1) -> None:
    """Rehash every row from `from_seq` on with the unkeyed function and point the head at the end."""
    from formflow.audit.models import AuditEntry

    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        prev = GENESIS
        for row in rows:
            if row.seq < from_seq:
                prev = row.hash
                continue
            rehashed = old_hash(prev, row)
            db.session.execute(
                sa.text("UPDATE audit_entry SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev, "h": rehashed, "id": row.id},
            )
            prev = rehashed
        db.session.execute(
            sa.text("UPDATE audit_head SET last_seq = :s, last_hash = :h WHERE id = 1"),
            {"s": rows[-1].seq if rows else 0, "h": prev},
        )
        db.session.commit()
