"""audit: append-only entries (triggers), chain keyed by FORMFLOW_AUDIT_KEY, older entries sealed

The database refuses UPDATE, DELETE (and TRUNCATE on PostgreSQL) of audit entries; the head
row may only move forward: last_seq never decreases, last_hash only names the entry at
last_seq, keyed_from_seq and legacy_seal never change, and it cannot be deleted.

Entries written before this revision were hashed with plain SHA-256; they stay as they are.
audit_head.keyed_from_seq says where HMAC keying begins, and legacy_seal (an HMAC under the
audit key of the last unkeyed entry's seq and hash) vouches for them, so `audit verify` still
passes on them and fails when they are rewritten. Set FORMFLOW_AUDIT_KEY before upgrading: the
seal is made with the key the app has now.

On SQLite, a later batch migration that recreates audit_entry or audit_head drops these
triggers: create them again there.

Revision ID: 0007_audit_append_only
Revises: 0006_auth_sessions
Create Date: 2026-12-02 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_audit_append_only'
down_revision = '0006_auth_sessions'
branch_labels = None
depends_on = None

REFUSED = "audit log is append-only"

POSTGRESQL_UP = [
    f"""
    CREATE FUNCTION audit_entry_refuse_change() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSED}: % on audit_entry refused', TG_OP USING ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_change()
    """,
    """
    CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_refuse_change()
    """,
    f"""
    CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' THEN
            RAISE EXCEPTION '{REFUSED}: % on audit_head refused', TG_OP USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.id <> OLD.id OR NEW.last_seq < OLD.last_seq
           OR NEW.keyed_from_seq IS DISTINCT FROM OLD.keyed_from_seq
           OR NEW.legacy_seal IS DISTINCT FROM OLD.legacy_seal
           OR (NEW.last_hash IS DISTINCT FROM OLD.last_hash
               AND NEW.last_hash IS DISTINCT FROM (SELECT hash FROM audit_entry WHERE seq = NEW.last_seq))
        THEN
            RAISE EXCEPTION '{REFUSED}: audit_head only moves forward' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()
    """,
    """
    CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only()
    """,
]

POSTGRESQL_DOWN = [
    "DROP TRIGGER audit_head_no_truncate ON audit_head",
    "DROP TRIGGER audit_head_forward_only ON audit_head",
    "DROP FUNCTION audit_head_forward_only()",
    "DROP TRIGGER audit_entry_no_truncate ON audit_entry",
    "DROP TRIGGER audit_entry_append_only ON audit_entry",
    "DROP FUNCTION audit_entry_refuse_change()",
]

SQLITE_UP = [
    f"""
    CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: UPDATE on audit_entry refused'); END
    """,
    f"""
    CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: DELETE on audit_entry refused'); END
    """,
    f"""
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: DELETE on audit_head refused'); END
    """,
    f"""
    CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
    WHEN NEW.id IS NOT OLD.id OR NEW.last_seq < OLD.last_seq
      OR NEW.keyed_from_seq IS NOT OLD.keyed_from_seq
      OR NEW.legacy_seal IS NOT OLD.legacy_seal
      OR (NEW.last_hash IS NOT OLD.last_hash
          AND NEW.last_hash IS NOT (SELECT hash FROM audit_entry WHERE seq = NEW.last_seq))
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: audit_head only moves forward'); END
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER audit_head_forward_only",
    "DROP TRIGGER audit_head_no_delete",
    "DROP TRIGGER audit_entry_no_delete",
    "DROP TRIGGER audit_entry_no_update",
]


def _seal_the_unkeyed_entries() -> None:
    """Keying begins after the last entry written so far; seal those with the app's audit key."""
    from formflow.audit.keying import audit_key, legacy_seal

    bind = op.get_bind()
    head = bind.execute(sa.text("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")).one_or_none()
    if head is None or head.last_seq == 0:
        return
    bind.execute(
        sa.text("UPDATE audit_head SET keyed_from_seq = :keyed_from, legacy_seal = :seal WHERE id = 1"),
        {"keyed_from": head.last_seq + 1, "seal": legacy_seal(audit_key(), head.last_seq, head.last_hash)},
    )


def upgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keyed_from_seq', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('legacy_seal', sa.String(length=64), nullable=True))
    _seal_the_unkeyed_entries()
    for statement in POSTGRESQL_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade():
    # Entries written since are HMACs: the code of the previous revision cannot verify them.
    for statement in POSTGRESQL_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('legacy_seal')
        batch_op.drop_column('keyed_from_seq')
