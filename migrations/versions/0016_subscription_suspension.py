"""billing: a subscription suspended from a day (its periods from then on are not charged; on
resuming, the periods that began while it was suspended are recorded as skipped charges); a
charge's period end, from which a plan whose frequency changed goes on billing (rows written
before this have none, and count as before: their own period only)

Revision ID: 0016_subscription_suspension
Revises: 0015_invoices_payments
Create Date: 2026-12-04 20:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016_subscription_suspension'
down_revision = '0015_invoices_payments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('fee_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_from', sa.Date(), nullable=True))
    with op.batch_alter_table('fee_charge', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('fee_charge', schema=None) as batch_op:
        batch_op.drop_column('period_end')
    with op.batch_alter_table('fee_subscription', schema=None) as batch_op:
        batch_op.drop_column('suspended_from')
