"""Customers. Tiers (A/B/C) select rows of parameter tables; status drives offboarding."""

from __future__ import annotations

from datetime import datetime

from flask_babel import pgettext
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from formflow.extensions import db, utcnow

CUSTOMER_STATUSES = ("active", "in_rectification", "offboarded", "blacklisted")


def status_labels() -> dict[str, str]:
    """What people read for each customer status, in the user's language."""
    return {
        "active": pgettext("customer status", "Active"),
        "in_rectification": pgettext("customer status", "In rectification"),
        "offboarded": pgettext("customer status", "Offboarded"),
        "blacklisted": pgettext("customer status", "Blacklisted"),
    }


def status_label(status: str | None) -> str:
    """A customer status in the user's language (an unknown one as it is)."""
    return status_labels().get(status or "", status or "")


class Customer(db.Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(30), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    def snapshot(self) -> dict:
        return {"code": self.code, "name": self.name, "tier": self.tier, "status": self.status}
