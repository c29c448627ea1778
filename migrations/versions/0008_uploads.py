"""uploads: quotas and clean-up

An index on attachment.uploaded_by_id: every upload sums its uploader's stored bytes
against FORMFLOW_UPLOAD_QUOTA_MB. (Orphan clean-up needs no new column: an attachment on
no case is one, and its created_at says since when.)

Revision ID: 0008_uploads
Revises: 0007_audit_append_only
Create Date: 2026-12-02 12:00:00

"""
from alembic import op
import sqlalchemy as sa  # noqa: F401


revision = '0008_uploads'
down_revision = '0007_audit_append_only'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_uploaded_by_id'), ['uploaded_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_uploaded_by_id'))
