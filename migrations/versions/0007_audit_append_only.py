"""audit: append-only entries (placeholder, filled by the audit work)

Revision ID: 0007_audit_append_only
Revises: 0006_auth_sessions
Create Date: 2026-12-02 12:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0007_audit_append_only'
down_revision = '0006_auth_sessions'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
