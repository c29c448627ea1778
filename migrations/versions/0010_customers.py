"""customers: the tier list, contacts, status history and the blacklist

The tier list starts with A, B and C and every tier a customer already has; each customer's
present status becomes the first line of its history (who and why unknown: before history).

Revision ID: 0010_customers
Revises: 0009_ledger
Create Date: 2026-12-03 11:00:00

"""
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = '0010_customers'
down_revision = '0009_ledger'
branch_labels = None
depends_on = None

#: (code, Chinese name, English name) of the tiers a new installation starts with
FIRST_TIERS = [("A", "A 级", "Tier A"), ("B", "B 级", "Tier B"), ("C", "C 级", "Tier C")]


def upgrade():
    tier = op.create_table('customer_tier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_tier')),
    sa.UniqueConstraint('code', name=op.f('uq_customer_tier_code'))
    )
    op.create_table('customer_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('person', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_contact_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_contact'))
    )
    with op.batch_alter_table('customer_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_contact_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('before', sa.String(length=30), nullable=True),
    sa.Column('after', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_customer_status_change_actor_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_customer_status_change_case_id_case_record')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_status_change_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_status_change'))
    )
    with op.batch_alter_table('customer_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_status_change_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_status_change_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_blacklist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('listed_on', sa.Date(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_customer_blacklist_actor_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_customer_blacklist_case_id_case_record')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_customer_blacklist_customer_id_customer')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['user_account.id'], name=op.f('fk_customer_blacklist_lifted_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_blacklist'))
    )
    with op.batch_alter_table('customer_blacklist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_blacklist_customer_id'), ['customer_id'], unique=False)

    bind = op.get_bind()
    known = [row[0] for row in bind.execute(sa.text("SELECT DISTINCT tier FROM customer ORDER BY tier"))]
    rows = [{"code": c, "name_zh": zh, "name_en": en, "position": i} for i, (c, zh, en) in enumerate(FIRST_TIERS)]
    rows += [
        {"code": code, "name_zh": "", "name_en": "", "position": len(rows) + i}
        for i, code in enumerate(code for code in known if code not in {row["code"] for row in rows})
    ]
    op.bulk_insert(tier, rows)
    bind.execute(sa.text(
        "INSERT INTO customer_status_change (customer_id, before, after, reason, changed_at) "
        "SELECT id, NULL, status, '', created_at FROM customer"
    ))
    # customers blacklisted before the blacklist was kept get an entry (its reason unknown)
    bind.execute(sa.text(
        "INSERT INTO customer_blacklist (customer_id, reason, listed_on, lift_reason) "
        "SELECT id, :reason, :today, '' FROM customer WHERE status = 'blacklisted'"
    ), {"reason": "（升级前列入黑名单，原因未记录）Blacklisted before reasons were kept", "today": date.today()})


def downgrade():
    op.drop_table('customer_blacklist')
    op.drop_table('customer_status_change')
    op.drop_table('customer_contact')
    op.drop_table('customer_tier')
