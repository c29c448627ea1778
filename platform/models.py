"""Every model, imported in one place so the metadata is complete for Alembic."""

from formflow.audit.models import AuditEntry, AuditHead
from formflow.auth.models import ApiToken, LoginThrottle, User, UserRole
from formflow.cases.models import Attachment, Case
from formflow.customers.models import Customer
from formflow.processes.models import Process, ProcessVersion

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "AuditHead",
    "Case",
    "Customer",
    "LoginThrottle",
    "Process",
    "ProcessVersion",
    "User",
    "UserRole",
]
