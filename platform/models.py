"""Every model, imported in one place so the metadata is complete for Alembic."""

from formflow.audit.models import AuditEntry, AuditHead
from formflow.auth.models import ApiToken, LoginThrottle, User, UserRole
from formflow.customers.models import Customer

__all__ = ["ApiToken", "AuditEntry", "AuditHead", "Customer", "LoginThrottle", "User", "UserRole"]
