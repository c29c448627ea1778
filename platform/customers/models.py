"""Customers. Tiers (A/B/C) select rows of parameter tables; status drives offboarding."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from formflow.extensions import db, utcnow

CUSTOMER_STATUSES = ("active", "in_rectification", "offboarded", "blacklisted")


class Customer(db.Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(30), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def snapshot(self) -> dict:
        return {"code": self.code, "name": self.name, "tier": self.tier, "status": self.status}
