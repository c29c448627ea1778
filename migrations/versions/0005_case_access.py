"""case access: approvals given on behalf of a delegator; submitted_at for cases past their form

Revision ID: 0005_case_access
Revises: 0004_workflows
Create Date: 2026-12-02 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_case_access'
down_revision = '0004_workflows'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_approval', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_behalf_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_case_approval_on_behalf_of_id_user_account'), 'user_account', ['on_behalf_of_id'], ['id']
        )
    # A case that left its draft was submitted: who may read it now depends on it.
    op.execute(
        "UPDATE case_record SET submitted_at = COALESCE(state_entered_at, updated_at) "
        "WHERE submitted_at IS NULL AND state <> 'draft'"
    )


def downgrade():
    with op.batch_alter_table('case_approval', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_approval_on_behalf_of_id_user_account'), type_='foreignkey')
        batch_op.drop_column('on_behalf_of_id')
