"""Every model, imported in one place so the metadata is complete for Alembic."""

from formflow.audit.models import AuditEntry, AuditHead
from formflow.auth.models import ApiToken, LoginThrottle, User, UserRole
from formflow.cases.models import Attachment, Case
from formflow.customers.models import Customer
from formflow.processes.models import Process, ProcessVersion
from formflow.rules.models import GlobalTable, GlobalTableVersion, ProcessTablePin

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "AuditHead",
    "Case",
    "Customer",
    "GlobalTable",
    "GlobalTableVersion",
    "LoginThrottle",
    "Process",
    "ProcessTablePin",
    "ProcessVersion",
    "User",
    "UserRole",
]
