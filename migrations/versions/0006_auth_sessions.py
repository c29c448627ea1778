"""auth: sessions, login throttle per user and address (placeholder, filled by the auth work)

Revision ID: 0006_auth_sessions
Revises: 0005_case_access
Create Date: 2026-12-02 12:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0006_auth_sessions'
down_revision = '0005_case_access'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
