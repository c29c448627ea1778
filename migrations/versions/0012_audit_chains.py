"""audit: sixteen chains instead of one, so concurrent transactions do not queue on one head row

Until now every audited transaction updated the one audit_head row and held its lock until it
committed: on PostgreSQL all audited writes (postings, transitions, …) went one at a time. Now
audit_head has one row per chain (ids 1 … 16); an append takes the first head no other
transaction holds (FOR UPDATE SKIP LOCKED), so up to sixteen transactions append at once, each
chain still gap-free and linked by hashes. Entries written so far are chain 1, unchanged (their
hashes cover no chain number; entries of chains 2 … 16 name theirs in what they hash).

audit_entry gets `chain` (1 for every entry so far); seq is unique per chain. The head's trigger
now checks that last_hash names the entry at last_seq *of its chain*. On SQLite the batch
migration recreates audit_entry, which drops its triggers: they are created again here.

Revision ID: 0012_audit_chains
Revises: 0011_statement_runs
Create Date: 2026-12-03 15:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012_audit_chains"
down_revision = "0011_statement_runs"
branch_labels = None
depends_on = None

REFUSED = "audit log is append-only"
CHAINS = 16
GENESIS = "0" * 64


def _postgresql_head_function(entry_of_head: str) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' THEN
            RAISE EXCEPTION '{REFUSED}: % on audit_head refused', TG_OP USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.id <> OLD.id OR NEW.last_seq < OLD.last_seq
           OR NEW.keyed_from_seq IS DISTINCT FROM OLD.keyed_from_seq
           OR NEW.legacy_seal IS DISTINCT FROM OLD.legacy_seal
           OR (NEW.last_hash IS DISTINCT FROM OLD.last_hash
               AND NEW.last_hash IS DISTINCT FROM (SELECT hash FROM audit_entry WHERE {entry_of_head}))
        THEN
            RAISE EXCEPTION '{REFUSED}: audit_head only moves forward' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END;
    $$
    """


def _sqlite_triggers(entry_of_head: str) -> list[str]:
    return [
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
              AND NEW.last_hash IS NOT (SELECT hash FROM audit_entry WHERE {entry_of_head}))
        BEGIN SELECT RAISE(ABORT, '{REFUSED}: audit_head only moves forward'); END
        """,
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_head_forward_only",
    "DROP TRIGGER IF EXISTS audit_head_no_delete",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
]
PER_CHAIN = "chain = NEW.id AND seq = NEW.last_seq"
ONE_CHAIN = "seq = NEW.last_seq"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    if _sqlite():  # the batch recreates audit_entry (on PostgreSQL the column is added in place)
        for statement in SQLITE_DROP:
            op.execute(statement)
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.Integer(), server_default="1", nullable=False))
        batch_op.drop_constraint("uq_audit_entry_seq", type_="unique")
        batch_op.create_unique_constraint("uq_audit_entry_chain", ["chain", "seq"])
    heads = sa.table(
        "audit_head",
        sa.column("id", sa.Integer),
        sa.column("last_seq", sa.Integer),
        sa.column("last_hash", sa.String),
        sa.column("keyed_from_seq", sa.Integer),
    )
    op.bulk_insert(
        heads,
        [
            {"id": chain, "last_seq": 0, "last_hash": GENESIS, "keyed_from_seq": 1}
            for chain in range(2, CHAINS + 1)
        ],
    )
    if _sqlite():
        for statement in _sqlite_triggers(PER_CHAIN):
            op.execute(statement)
    else:
        op.execute(_postgresql_head_function(PER_CHAIN))


def downgrade():
    # Only while chains 2 … 16 are empty: one chain cannot hold their entries.
    bind = op.get_bind()
    used = bind.execute(sa.text("SELECT count(*) FROM audit_entry WHERE chain <> 1")).scalar()
    if used:
        raise RuntimeError(
            f"{used} audit entries are in chains 2-{CHAINS}: the previous revision cannot hold them"
        )
    if _sqlite():
        for statement in SQLITE_DROP:
            op.execute(statement)
        op.execute("DELETE FROM audit_head WHERE id <> 1")
    else:
        op.execute("ALTER TABLE audit_head DISABLE TRIGGER audit_head_forward_only")
        op.execute("DELETE FROM audit_head WHERE id <> 1")
        op.execute("ALTER TABLE audit_head ENABLE TRIGGER audit_head_forward_only")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_entry_chain", type_="unique")
        batch_op.create_unique_constraint("uq_audit_entry_seq", ["seq"])
        batch_op.drop_column("chain")
    if _sqlite():
        for statement in _sqlite_triggers(ONE_CHAIN):
            op.execute(statement)
    else:
        op.execute(_postgresql_head_function(ONE_CHAIN))
