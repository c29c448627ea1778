"""uploads: quotas and clean-up (placeholder, filled by the uploads work)

Revision ID: 0008_uploads
Revises: 0007_audit_append_only
Create Date: 2026-12-02 12:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0008_uploads'
down_revision = '0007_audit_append_only'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
