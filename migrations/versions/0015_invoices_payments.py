"""billing: invoices (numbered per year), their items and instalments, payments and their
allocations, reminders (once per invoice or instalment and offset), the payment webhook's
delivery log; notifications may go to an address outside the users (a customer's contact);
a customer's credit flag (one of the offboarding screening's facts)

Money as in 0009: NUMERIC(18,2) on PostgreSQL, whole cents in an INTEGER on SQLite.

Revision ID: 0015_invoices_payments
Revises: 0014_fee_plans
Create Date: 2026-12-03 21:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015_invoices_payments'
down_revision = '0014_fee_plans'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")


def upgrade():
    op.create_table('billing_invoice_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_billing_invoice_counter'))
    )
    op.create_table('billing_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('total', MONEY, nullable=False),
    sa.Column('paid', MONEY, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('prepaid_at_issue', MONEY, nullable=False),
    sa.Column('void_journal_id', sa.Integer(), nullable=True),
    sa.Column('void_reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_billing_invoice_customer_id_customer')),
    sa.ForeignKeyConstraint(['void_journal_id'], ['ledger_journal.id'], name=op.f('fk_billing_invoice_void_journal_id_ledger_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_billing_invoice_number'))
    )
    with op.batch_alter_table('billing_invoice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_invoice_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_invoice_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_invoice_status'), ['status'], unique=False)

    op.create_table('billing_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('to_prepaid', MONEY, nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('journal_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_billing_payment_case_id_case_record')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_billing_payment_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_billing_payment_customer_id_customer')),
    sa.ForeignKeyConstraint(['journal_id'], ['ledger_journal.id'], name=op.f('fk_billing_payment_journal_id_ledger_journal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payment')),
    sa.UniqueConstraint('key', name=op.f('uq_billing_payment_key'))
    )
    with op.batch_alter_table('billing_payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_payment_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_payment_method'), ['method'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_payment_paid_on'), ['paid_on'], unique=False)

    op.create_table('billing_instalment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('paid', MONEY, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user_account.id'], name=op.f('fk_billing_instalment_approved_by_id_user_account')),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name=op.f('fk_billing_instalment_invoice_id_billing_invoice')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_billing_instalment_proposed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_instalment')),
    sa.UniqueConstraint('invoice_id', 'seq', name='uq_billing_instalment_invoice_seq')
    )
    with op.batch_alter_table('billing_instalment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_instalment_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('billing_invoice_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('charge_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['charge_id'], ['fee_charge.id'], name=op.f('fk_billing_invoice_item_charge_id_fee_charge')),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name=op.f('fk_billing_invoice_item_invoice_id_billing_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_invoice_item')),
    sa.UniqueConstraint('charge_id', name=op.f('uq_billing_invoice_item_charge_id'))
    )
    with op.batch_alter_table('billing_invoice_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_invoice_item_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('billing_reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('escalated_to', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_billing_reminder_customer_id_customer')),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name=op.f('fk_billing_reminder_invoice_id_billing_invoice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_reminder')),
    sa.UniqueConstraint('target', 'offset_days', name='uq_billing_reminder_target_offset')
    )
    with op.batch_alter_table('billing_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_reminder_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_reminder_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_reminder_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('billing_webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('event_type', sa.String(length=60), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('last_received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['billing_payment.id'], name=op.f('fk_billing_webhook_delivery_payment_id_billing_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_webhook_delivery')),
    sa.UniqueConstraint('event_id', name=op.f('uq_billing_webhook_delivery_event_id'))
    )
    with op.batch_alter_table('billing_webhook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_webhook_delivery_received_at'), ['received_at'], unique=False)

    op.create_table('billing_payment_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('instalment_id', sa.Integer(), nullable=True),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['instalment_id'], ['billing_instalment.id'], name=op.f('fk_billing_payment_allocation_instalment_id_billing_instalment')),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name=op.f('fk_billing_payment_allocation_invoice_id_billing_invoice')),
    sa.ForeignKeyConstraint(['payment_id'], ['billing_payment.id'], name=op.f('fk_billing_payment_allocation_payment_id_billing_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_payment_allocation'))
    )
    with op.batch_alter_table('billing_payment_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_payment_allocation_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_payment_allocation_payment_id'), ['payment_id'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))
    # a plain ADD COLUMN (no batch: SQLite would copy the table, which the tables naming it refuse)
    op.add_column('customer', sa.Column('credit_flag', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('credit_flag')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('email')

    with op.batch_alter_table('billing_payment_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_payment_allocation_payment_id'))
        batch_op.drop_index(batch_op.f('ix_billing_payment_allocation_invoice_id'))

    op.drop_table('billing_payment_allocation')
    with op.batch_alter_table('billing_webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_webhook_delivery_received_at'))

    op.drop_table('billing_webhook_delivery')
    with op.batch_alter_table('billing_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_reminder_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_billing_reminder_customer_id'))
        batch_op.drop_index(batch_op.f('ix_billing_reminder_created_at'))

    op.drop_table('billing_reminder')
    with op.batch_alter_table('billing_invoice_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_invoice_item_invoice_id'))

    op.drop_table('billing_invoice_item')
    with op.batch_alter_table('billing_instalment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_instalment_invoice_id'))

    op.drop_table('billing_instalment')
    with op.batch_alter_table('billing_payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_payment_paid_on'))
        batch_op.drop_index(batch_op.f('ix_billing_payment_method'))
        batch_op.drop_index(batch_op.f('ix_billing_payment_customer_id'))

    op.drop_table('billing_payment')
    with op.batch_alter_table('billing_invoice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_invoice_status'))
        batch_op.drop_index(batch_op.f('ix_billing_invoice_due_date'))
        batch_op.drop_index(batch_op.f('ix_billing_invoice_customer_id'))

    op.drop_table('billing_invoice')
    op.drop_table('billing_invoice_counter')
