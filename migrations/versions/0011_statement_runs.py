"""ledger: monthly statements issued by `formflow tick`, one per customer, account and period

Money is NUMERIC(18,2) on PostgreSQL and whole cents in an INTEGER on SQLite (formflow.money),
as in 0009. The unique key (customer, account, period) is what makes a statement issued once
when several nodes run `tick` together.

Revision ID: 0011_statement_runs
Revises: 0010_customers
Create Date: 2026-12-03 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_statement_runs'
down_revision = '0010_customers'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")


def upgrade():
    op.create_table('ledger_statement_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('opening', MONEY, nullable=False),
    sa.Column('debits', MONEY, nullable=False),
    sa.Column('credits', MONEY, nullable=False),
    sa.Column('closing', MONEY, nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_ledger_statement_issue_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_statement_issue')),
    sa.UniqueConstraint('customer_id', 'account', 'period', name='uq_ledger_statement_issue_customer_account_period')
    )
    with op.batch_alter_table('ledger_statement_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_statement_issue_period'), ['period'], unique=False)


def downgrade():
    op.drop_table('ledger_statement_issue')
