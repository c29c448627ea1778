"""processes: every save of a draft is a revision (process_draft_revision); drafts so far get
their present spec as revision 1

Revision ID: 0013_draft_revisions
Revises: 0012_audit_chains
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_draft_revisions'
down_revision = '0012_audit_chains'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('process_draft_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_process_draft_revision_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['version_id'], ['process_version.id'], name=op.f('fk_process_draft_revision_version_id_process_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_draft_revision')),
    sa.UniqueConstraint('version_id', 'number', name=op.f('uq_process_draft_revision_version_id'))
    )
    with op.batch_alter_table('process_draft_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_draft_revision_version_id'), ['version_id'], unique=False)
    op.execute(
        "INSERT INTO process_draft_revision (version_id, number, spec, sha256, source, created_at, created_by_id)"
        " SELECT id, 1, spec, sha256, 'import', created_at, created_by_id FROM process_version WHERE status = 'draft'"
    )


def downgrade():
    op.drop_table('process_draft_revision')
