"""Customers: who they are (code, name, contacts), their tier (from the admin-editable tier
list; tiers select rows of parameter tables), their status with its history, and blacklist
entries that keep chosen processes from starting for them."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import pgettext
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.extensions import db, utcnow
from formflow.forms.texts import localized

#: In the order a customer usually goes through them.
CUSTOMER_STATUSES = ("active", "warned", "in_rectification", "offboarding", "offboarded", "blacklisted")


def status_labels() -> dict[str, str]:
    """What people read for each customer status, in the user's language."""
    return {
        "active": pgettext("customer status", "Active"),
        "warned": pgettext("customer status", "Warned"),
        "in_rectification": pgettext("customer status", "In rectification"),
        "offboarding": pgettext("customer status", "Offboarding"),
        "offboarded": pgettext("customer status", "Offboarded"),
        "blacklisted": pgettext("customer status", "Blacklisted"),
    }


def status_label(status: str | None) -> str:
    """A customer status in the user's language (an unknown one as it is)."""
    return status_labels().get(status or "", status or "")


class Tier(db.Model):
    """One entry of the tier list admins keep (A, B, C…): its code is what parameter tables
    are keyed by, its names are what people read."""

    __tablename__ = "customer_tier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100), default="")
    name_en: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int] = mapped_column(default=0)

    @property
    def label(self) -> str:
        """The tier's name in the user's language (the other language's, else its code)."""
        name = localized({"zh-CN": self.name_zh, "en": self.name_en})
        return f"{self.code} · {name}" if name and name != self.code else self.code


class Customer(db.Model):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(30), default="active", index=True)
    #: a credit problem known of the customer (one of the offboarding screening's facts)
    credit_flag: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contacts: Mapped[list[Contact]] = relationship(
        order_by="Contact.position", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    def snapshot(self) -> dict:
        return {"code": self.code, "name": self.name, "tier": self.tier, "status": self.status}

    def contact_list(self) -> list[dict]:
        return [contact.snapshot() for contact in self.contacts]


class Contact(db.Model):
    """A person to reach at the customer; the first is the main contact."""

    __tablename__ = "customer_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    person: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")

    def snapshot(self) -> dict:
        return {"person": self.person, "phone": self.phone, "email": self.email, "address": self.address}


class StatusChange(db.Model):
    """One change of a customer's status: from, to, who, when, why, and the case that
    decided it (when one did)."""

    __tablename__ = "customer_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    before: Mapped[str | None] = mapped_column(String(30))
    after: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor = relationship("User", lazy="joined")

    @property
    def before_label(self) -> str:
        return status_label(self.before)

    @property
    def after_label(self) -> str:
        return status_label(self.after)


class BlacklistEntry(db.Model):
    """A customer on the blacklist: why, since when, who put them there and the case that
    decided it; lifted (not deleted) when they come off it."""

    __tablename__ = "customer_blacklist"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    listed_on: Mapped[date]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"))
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lift_reason: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("User", foreign_keys=[actor_id], lazy="joined")
    lifted_by = relationship("User", foreign_keys=[lifted_by_id], lazy="joined")
