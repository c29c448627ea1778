"""What a running workflow records: approvals, checklist ticks, timers, notifications,
customer notices, webhook deliveries and delegations. Transitions themselves are in the
audit log (the case's history)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from formflow.exactjson import ExactJSON
from formflow.extensions import db, utcnow


class CaseApproval(db.Model):
    """One person's decision at one approval step. A step's `round` starts again each time
    the case re-enters the state, so approvals of an earlier round no longer count."""

    __tablename__ = "case_approval"
    __table_args__ = (
        # the database itself refuses "the same person approving twice" in one round
        UniqueConstraint("case_id", "state", "round", "user_id", name="uq_case_approval_once_per_round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    state: Mapped[str] = mapped_column(String(80))
    round: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: The delegator a delegate decided for (distinct approvers count them as one person).
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: "approve" or "reject"
    decision: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ChecklistTick(db.Model):
    __tablename__ = "checklist_tick"
    __table_args__ = (
        UniqueConstraint("case_id", "state", "round", "item_id", name="uq_checklist_tick_item_per_round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    state: Mapped[str] = mapped_column(String(80))
    round: Mapped[int]
    item_id: Mapped[str] = mapped_column(String(80))
    done: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    attachment_token: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Timer(db.Model):
    """A due time or reminder of a state's SLA. Fired once by `formflow tick`: claimed by
    an UPDATE (or FOR UPDATE SKIP LOCKED on PostgreSQL) so several nodes never both fire it."""

    __tablename__ = "workflow_timer"
    __table_args__ = (
        UniqueConstraint("case_id", "state", "round", "kind", "fire_at", name="uq_workflow_timer_once"),
        Index("ix_workflow_timer_pending", "fired_at", "fire_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    state: Mapped[str] = mapped_column(String(80))
    round: Mapped[int]
    #: "due" (the on_expire action) or "reminder"
    kind: Mapped[str] = mapped_column(String(20))
    fire_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    #: what firing did: "fired", "skipped (case moved on)", an error message…
    outcome: Mapped[str] = mapped_column(Text, default="")


class Notification(db.Model):
    """An in-app notification for a user (or everyone holding a role); e-mailed too when
    SMTP is configured."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(40), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    #: an address outside the users (a customer's contact) this one is e-mailed to instead
    email: Mapped[str | None] = mapped_column(String(200))


class NoticeDocument(db.Model):
    """A notice sent to a customer (reasons, amounts, rights, how to appeal, whom to
    contact), stored as the document the customer received."""

    __tablename__ = "notice_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    template: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(db.Model):
    """An outbound, HMAC-signed JSON POST; retried by `formflow tick` with backoff."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: case:{id}:{state}:{round}:{effect index}: an effect re-run never sends twice
    key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    url: Mapped[str] = mapped_column(String(1000))
    event: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict] = mapped_column(ExactJSON)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class Delegation(db.Model):
    """A user hands their approvals to another for a period (both days included)."""

    __tablename__ = "delegation"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    to_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
