"""ledger: accounts, journals and entries (append-only, triggers), low-balance alerts

Money is NUMERIC(18,2) on PostgreSQL and whole cents in an INTEGER on SQLite (formflow.money:
SQLite has no exact decimal). The database refuses UPDATE and DELETE (and TRUNCATE on
PostgreSQL) of journals and entries, and DELETE of accounts; an account's row changes only
by its balance (services.post).

On SQLite, a later batch migration that recreates these tables drops the triggers: create
them again there.

Revision ID: 0009_ledger
Revises: 0008_uploads
Create Date: 2026-12-03 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_ledger'
down_revision = '0008_uploads'
branch_labels = None
depends_on = None

REFUSED = "the ledger is append-only"
MONEY = sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")

POSTGRESQL_UP = [
    f"""
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSED}: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    f"""
    CREATE FUNCTION ledger_account_balance_only() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
        IF NEW.id <> OLD.id OR NEW.code <> OLD.code OR NEW.kind <> OLD.kind
           OR NEW.customer_id IS DISTINCT FROM OLD.customer_id OR NEW.normal_side <> OLD.normal_side
           OR NEW.allow_negative <> OLD.allow_negative THEN
            RAISE EXCEPTION '{REFUSED}: only an account''s balance changes' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE TRIGGER ledger_journal_append_only BEFORE UPDATE OR DELETE ON ledger_journal
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_journal_no_truncate BEFORE TRUNCATE ON ledger_journal
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_account_no_truncate BEFORE TRUNCATE ON ledger_account
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()
    """,
    """
    CREATE TRIGGER ledger_account_balance_only BEFORE UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_balance_only()
    """,
]

POSTGRESQL_DOWN = [
    "DROP TRIGGER ledger_account_balance_only ON ledger_account",
    "DROP TRIGGER ledger_account_no_truncate ON ledger_account",
    "DROP TRIGGER ledger_account_no_delete ON ledger_account",
    "DROP TRIGGER ledger_entry_no_truncate ON ledger_entry",
    "DROP TRIGGER ledger_entry_append_only ON ledger_entry",
    "DROP TRIGGER ledger_journal_no_truncate ON ledger_journal",
    "DROP TRIGGER ledger_journal_append_only ON ledger_journal",
    "DROP FUNCTION ledger_account_balance_only()",
    "DROP FUNCTION ledger_refuse_change()",
]

SQLITE_UP = [
    f"""
    CREATE TRIGGER ledger_journal_no_update BEFORE UPDATE ON ledger_journal
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: UPDATE on ledger_journal refused'); END
    """,
    f"""
    CREATE TRIGGER ledger_journal_no_delete BEFORE DELETE ON ledger_journal
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: DELETE on ledger_journal refused'); END
    """,
    f"""
    CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: UPDATE on ledger_entry refused'); END
    """,
    f"""
    CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: DELETE on ledger_entry refused'); END
    """,
    f"""
    CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: DELETE on ledger_account refused'); END
    """,
    f"""
    CREATE TRIGGER ledger_account_balance_only BEFORE UPDATE ON ledger_account
    WHEN NEW.id IS NOT OLD.id OR NEW.code IS NOT OLD.code OR NEW.kind IS NOT OLD.kind
      OR NEW.customer_id IS NOT OLD.customer_id OR NEW.normal_side IS NOT OLD.normal_side
      OR NEW.allow_negative IS NOT OLD.allow_negative
    BEGIN SELECT RAISE(ABORT, '{REFUSED}: only an account''s balance changes'); END
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER ledger_account_balance_only",
    "DROP TRIGGER ledger_account_no_delete",
    "DROP TRIGGER ledger_entry_no_delete",
    "DROP TRIGGER ledger_entry_no_update",
    "DROP TRIGGER ledger_journal_no_delete",
    "DROP TRIGGER ledger_journal_no_update",
]


def upgrade():
    op.create_table('ledger_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('normal_side', sa.String(length=6), nullable=False),
    sa.Column('allow_negative', sa.Boolean(), nullable=False),
    sa.Column('balance', MONEY, nullable=True),
    sa.Column('alert_below', MONEY, nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_ledger_account_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_account')),
    sa.UniqueConstraint('code', name=op.f('uq_ledger_account_code')),
    sa.UniqueConstraint('customer_id', 'kind', name='uq_ledger_account_customer_kind')
    )
    with op.batch_alter_table('ledger_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_account_customer_id'), ['customer_id'], unique=False)

    op.create_table('ledger_journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('memo', sa.String(length=500), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.Column('posted_by_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_ledger_journal_case_id_case_record')),
    sa.ForeignKeyConstraint(['posted_by_id'], ['user_account.id'], name=op.f('fk_ledger_journal_posted_by_id_user_account')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_journal.id'], name=op.f('fk_ledger_journal_reverses_id_ledger_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_journal')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_journal_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_journal_reverses_id'))
    )
    with op.batch_alter_table('ledger_journal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_journal_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_journal_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_journal_posted_at'), ['posted_at'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('balance_after', MONEY, nullable=True),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], name=op.f('fk_ledger_entry_account_id_ledger_account')),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journal.id'], name=op.f('fk_ledger_entry_journal_id_ledger_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry'))
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_account_id_id', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entry_journal_id'), ['journal_id'], unique=False)

    op.create_table('ledger_low_balance_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('balance_before', MONEY, nullable=False),
    sa.Column('balance_after', MONEY, nullable=False),
    sa.Column('threshold', MONEY, nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], name=op.f('fk_ledger_low_balance_alert_account_id_ledger_account')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_ledger_low_balance_alert_customer_id_customer')),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journal.id'], name=op.f('fk_ledger_low_balance_alert_journal_id_ledger_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_low_balance_alert')),
    sa.UniqueConstraint('journal_id', name=op.f('uq_ledger_low_balance_alert_journal_id'))
    )
    with op.batch_alter_table('ledger_low_balance_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_low_balance_alert_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_low_balance_alert_customer_id'), ['customer_id'], unique=False)

    for statement in POSTGRESQL_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP:
        op.execute(statement)


def downgrade():
    for statement in POSTGRESQL_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table('ledger_low_balance_alert')
    op.drop_table('ledger_entry')
    op.drop_table('ledger_journal')
    op.drop_table('ledger_account')
