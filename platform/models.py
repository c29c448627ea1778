"""Every model, imported in one place so the metadata is complete for Alembic."""

from formflow.audit.models import AuditEntry, AuditHead
from formflow.auth.models import ApiToken, LoginThrottle, User, UserRole, UserSession
from formflow.billing.models import FeeCharge, FeePlan, FeePlanVersion, Subscription
from formflow.customers.models import Customer
from formflow.ledger.models import Account, Entry, Journal, LowBalanceAlert, StatementIssue
from formflow.processes.models import DraftRevision, Process, ProcessVersion
from formflow.records.models import Attachment, Case
from formflow.selfservice.models import SelfServiceLink, SelfServiceThrottle
from formflow.tables.models import GlobalTable, GlobalTableVersion, ProcessTablePin
from formflow.workflows.models import (
    CaseApproval,
    ChecklistTick,
    Delegation,
    NoticeDocument,
    Notification,
    Timer,
    WebhookDelivery,
)

__all__ = [
    "Account",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "AuditHead",
    "Case",
    "CaseApproval",
    "ChecklistTick",
    "Customer",
    "Delegation",
    "DraftRevision",
    "Entry",
    "FeeCharge",
    "FeePlan",
    "FeePlanVersion",
    "GlobalTable",
    "GlobalTableVersion",
    "Journal",
    "LoginThrottle",
    "LowBalanceAlert",
    "NoticeDocument",
    "Notification",
    "Process",
    "ProcessTablePin",
    "ProcessVersion",
    "SelfServiceLink",
    "SelfServiceThrottle",
    "StatementIssue",
    "Subscription",
    "Timer",
    "User",
    "UserRole",
    "UserSession",
    "WebhookDelivery",
]
