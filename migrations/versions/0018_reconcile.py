"""reconcile: bank accounts with their statement mapping, imports, bank lines and their matches;
ledger: a journal's value date and closed periods; billing: a payment's reversal

Revision ID: 0018_reconcile
Revises: 0017_self_service_links
Create Date: 2026-12-07 23:30:00

"""
from alembic import op
import sqlalchemy as sa


MONEY = sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")


revision = '0018_reconcile'
down_revision = '0017_self_service_links'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN (no table rebuild: the append-only triggers stay)
    op.add_column('ledger_journal', sa.Column('value_date', sa.Date(), nullable=True))
    op.create_index('ix_ledger_journal_value_date', 'ledger_journal', ['value_date'])
    with op.batch_alter_table('billing_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reversal_journal_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_billing_payment_reversal_journal_id_ledger_journal', 'ledger_journal',
            ['reversal_journal_id'], ['id'],
        )
    op.create_table(
        'ledger_period',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('month', sa.String(7), nullable=False, unique=True),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False, index=True),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=False),
        sa.Column('closed_by_id', sa.Integer(), sa.ForeignKey('user_account.id')),
        sa.Column('facts', sa.JSON()),
        sa.Column('reopen_reason', sa.String(500), nullable=False),
        sa.Column('reopen_requested_by_id', sa.Integer(), sa.ForeignKey('user_account.id')),
        sa.Column('reopen_requested_at', sa.DateTime()),
        sa.Column('reopened_by_id', sa.Integer(), sa.ForeignKey('user_account.id')),
        sa.Column('reopened_at', sa.DateTime()),
    )
    op.create_table(
        'reconcile_bank_account',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(120), nullable=False, unique=True),
        sa.Column('bank', sa.String(120), nullable=False),
        sa.Column('account_number', sa.String(60), nullable=False),
        sa.Column('mapping', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'reconcile_bank_import',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('bank_account_id', sa.Integer(), sa.ForeignKey('reconcile_bank_account.id'), nullable=False,
                  index=True),
        sa.Column('filename', sa.String(255), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('content', sa.LargeBinary()),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('added', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('user_account.id')),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('imported_at', sa.DateTime()),
    )
    op.create_table(
        'reconcile_bank_line',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('bank_account_id', sa.Integer(), sa.ForeignKey('reconcile_bank_account.id'), nullable=False),
        sa.Column('import_id', sa.Integer(), sa.ForeignKey('reconcile_bank_import.id'), nullable=False,
                  index=True),
        sa.Column('dedupe_key', sa.String(300), nullable=False),
        sa.Column('booked_on', sa.Date(), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('counterparty', sa.String(200), nullable=False),
        sa.Column('counter_account', sa.String(60), nullable=False),
        sa.Column('serial', sa.String(100), nullable=False),
        sa.Column('memo', sa.String(500), nullable=False),
        sa.Column('balance', MONEY),
        sa.Column('row_number', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('explanation', sa.String(500), nullable=False),
        sa.Column('explanation_journal_id', sa.Integer(), sa.ForeignKey('ledger_journal.id')),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('bank_account_id', 'dedupe_key', name='uq_reconcile_bank_line_account_key'),
    )
    op.create_index('ix_reconcile_bank_line_status_booked', 'reconcile_bank_line', ['status', 'booked_on'])
    op.create_table(
        'reconcile_bank_match',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('line_id', sa.Integer(), sa.ForeignKey('reconcile_bank_line.id'), nullable=False, index=True),
        sa.Column('kind', sa.String(10), nullable=False),
        sa.Column('customer_id', sa.Integer(), sa.ForeignKey('customer.id'), nullable=False, index=True),
        sa.Column('payment_id', sa.Integer(), sa.ForeignKey('billing_payment.id'), nullable=False, index=True),
        sa.Column('posted', sa.Boolean(), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('reason', sa.JSON(), nullable=False),
        sa.Column('write_off', MONEY, nullable=False),
        sa.Column('write_off_journal_id', sa.Integer(), sa.ForeignKey('ledger_journal.id')),
        sa.Column('write_off_invoice_id', sa.Integer(), sa.ForeignKey('billing_invoice.id')),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('user_account.id')),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('undone_at', sa.DateTime()),
        sa.Column('undone_by_id', sa.Integer(), sa.ForeignKey('user_account.id')),
    )
    op.create_index(
        'uq_reconcile_bank_match_line_active', 'reconcile_bank_match', ['line_id'], unique=True,
        sqlite_where=sa.text('undone_at IS NULL'), postgresql_where=sa.text('undone_at IS NULL'),
    )


def downgrade():
    op.drop_index('uq_reconcile_bank_match_line_active', table_name='reconcile_bank_match')
    op.drop_table('reconcile_bank_match')
    op.drop_index('ix_reconcile_bank_line_status_booked', table_name='reconcile_bank_line')
    op.drop_table('reconcile_bank_line')
    op.drop_table('reconcile_bank_import')
    op.drop_table('reconcile_bank_account')
    op.drop_table('ledger_period')
    with op.batch_alter_table('billing_payment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_billing_payment_reversal_journal_id_ledger_journal', type_='foreignkey')
        batch_op.drop_column('reversal_journal_id')
    op.drop_index('ix_ledger_journal_value_date', table_name='ledger_journal')
    op.execute('ALTER TABLE ledger_journal DROP COLUMN value_date')
