"""Every model, imported in one place so the metadata is complete for Alembic."""

from formflow.audit.models import AuditEntry, AuditHead
from formflow.auth.models import ApiToken, LoginThrottle, User, UserRole, UserSession
from formflow.billing.models import FeeCharge, FeePlan, FeePlanVersion, Subscription
from formflow.customers.models import Customer
from formflow.ledger.models import Account, Entry, Journal, LedgerPeriod, LowBalanceAlert, StatementIssue
from formflow.processes.models import DraftRevision, Process, ProcessVersion
from formflow.reconcile.models import BankAccount, BankImport, BankLine, BankMatch
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
    "BankAccount",
    "BankImport",
    "BankLine",
    "BankMatch",
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
    "LedgerPeriod",
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
