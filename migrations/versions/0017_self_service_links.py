"""selfservice: a customer's signed, expiring, revocable self-service links, and the counters
that rate-limit opening them (per link and per client address, per window)

Revision ID: 0017_self_service_links
Revises: 0016_subscription_suspension
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017_self_service_links'
down_revision = '0016_subscription_suspension'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('self_service_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('last_opened_at', sa.DateTime(), nullable=True),
    sa.Column('opened_count', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_self_service_link_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_self_service_link_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_self_service_link_revoked_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_service_link')),
    sa.UniqueConstraint('nonce', name=op.f('uq_self_service_link_nonce'))
    )
    with op.batch_alter_table('self_service_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_service_link_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_self_service_link_expires_at'), ['expires_at'], unique=False)

    op.create_table('self_service_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_service_throttle')),
    sa.UniqueConstraint('key', 'window_start', name='uq_self_service_throttle_key_window')
    )
    with op.batch_alter_table('self_service_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_service_throttle_window_start'), ['window_start'], unique=False)


def downgrade():
    with op.batch_alter_table('self_service_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_service_throttle_window_start'))
    op.drop_table('self_service_throttle')
    with op.batch_alter_table('self_service_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_service_link_expires_at'))
        batch_op.drop_index(batch_op.f('ix_self_service_link_customer_id'))
    op.drop_table('self_service_link')
