"""billing: fee plans (versioned), subscriptions and the fee run's charges

A charge's unique key (subscription, item, period) is the fee run's claim: a rerun, a run
killed half-way, or two nodes at once charge each period once (with the ledger's own key
`fee:{subscription}:{item}:{period}`). Money as in 0009: NUMERIC(18,2) on PostgreSQL, whole
cents in an INTEGER on SQLite.

Revision ID: 0014_fee_plans
Revises: 0013_draft_revisions
Create Date: 2026-12-03 18:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_fee_plans'
down_revision = '0013_draft_revisions'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")


def upgrade():
    op.create_table('fee_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_plan')),
    sa.UniqueConstraint('key', name=op.f('uq_fee_plan_key'))
    )
    op.create_table('fee_plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_fee_plan_version_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['plan_id'], ['fee_plan.id'], name=op.f('fk_fee_plan_version_plan_id_fee_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_plan_version')),
    sa.UniqueConstraint('plan_id', 'number', name='uq_fee_plan_version_plan_number')
    )
    with op.batch_alter_table('fee_plan_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_plan_version_plan_id'), ['plan_id'], unique=False)
    op.create_table('fee_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('anchor_day', sa.Integer(), nullable=False),
    sa.Column('overrides', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_fee_subscription_customer_id_customer')),
    sa.ForeignKeyConstraint(['plan_id'], ['fee_plan.id'], name=op.f('fk_fee_subscription_plan_id_fee_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_subscription'))
    )
    with op.batch_alter_table('fee_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_subscription_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fee_subscription_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fee_subscription_status'), ['status'], unique=False)
    op.create_table('fee_charge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=80), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('to_receivable', MONEY, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journal.id'], name=op.f('fk_fee_charge_journal_id_ledger_journal')),
    sa.ForeignKeyConstraint(['subscription_id'], ['fee_subscription.id'], name=op.f('fk_fee_charge_subscription_id_fee_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_charge')),
    sa.UniqueConstraint('subscription_id', 'item', 'period', name='uq_fee_charge_subscription_item_period')
    )
    with op.batch_alter_table('fee_charge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_charge_subscription_id'), ['subscription_id'], unique=False)


def downgrade():
    op.drop_table('fee_charge')
    op.drop_table('fee_subscription')
    op.drop_table('fee_plan_version')
    op.drop_table('fee_plan')
