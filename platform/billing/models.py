"""Fee plans, their versions, subscriptions and the charges the fee run made.

A plan's content (its items) is versioned like a process: each save is a new version, and a
charge records the version it was made with. A subscription ties a customer to a plan from a
start date (to an optional end date) on an anchor day. A charge is one item of one period of
one subscription: its unique key (subscription, item, period) is the fee run's claim, next to
the ledger's idempotency key `fee:{subscription}:{item}:{period}`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.customers.models import Customer
from formflow.extensions import db, utcnow
from formflow.money import Money

MONEY = Money()
SUBSCRIPTION_STATUSES = ("active", "suspended", "ended")
CHARGE_STATUSES = ("pending", "posted", "short", "failed")


class FeePlan(db.Model):
    __tablename__ = "fee_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeePlanVersion(db.Model):
    __tablename__ = "fee_plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_fee_plan_version_plan_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("fee_plan.id"), index=True)
    number: Mapped[int]
    #: {"items": [...], "short": "partial" | "receivable"} (formflow.billing.plans.PLAN_SCHEMA)
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    plan: Mapped[FeePlan] = relationship()


class Subscription(db.Model):
    __tablename__ = "fee_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("fee_plan.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    anchor_day: Mapped[int]
    #: {item id: amount as text}: what this customer pays instead of the plan's amount
    overrides: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    case_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    plan: Mapped[FeePlan] = relationship()


class FeeCharge(db.Model):
    __tablename__ = "fee_charge"
    __table_args__ = (
        UniqueConstraint("subscription_id", "item", "period", name="uq_fee_charge_subscription_item_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("fee_subscription.id"), index=True)
    item: Mapped[str] = mapped_column(String(80))
    #: the period's start date ("2026-02-28"), or "signing" for an item charged once
    period: Mapped[str] = mapped_column(String(10))
    plan_version: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    to_receivable: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(20))
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_journal.id"))
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
