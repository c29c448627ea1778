"""A customer's self-service links and the counters that rate-limit opening them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.auth.models import User
from formflow.customers.models import Customer
from formflow.extensions import db, utcnow


class SelfServiceLink(db.Model):
    """One link staff made for a customer. The URL carries a signed token naming this row (its
    id and nonce); the link works while it is not revoked and not past expires_at."""

    __tablename__ = "self_service_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    #: random, unique: a token signed for another row (or a deleted one) names nothing
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_opened_at: Mapped[datetime | None]
    #: how often a page or download of it was served
    opened_count: Mapped[int] = mapped_column(default=0)
    #: a note staff gave it (to whom it was sent), shown in the list of links
    note: Mapped[str] = mapped_column(String(200), default="")

    customer: Mapped[Customer] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def state(self, now: datetime) -> str:
        """ "active", "revoked" or "expired"."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "active"


class SelfServiceThrottle(db.Model):
    """Requests within one window for one key ("link:<id>" or "addr:<address>"), counted by an
    atomic upsert like the login throttle, so parallel requests cannot skip the count."""

    __tablename__ = "self_service_throttle"
    __table_args__ = (UniqueConstraint("key", "window_start", name="uq_self_service_throttle_key_window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    window_start: Mapped[datetime] = mapped_column(index=True)
    hits: Mapped[int] = mapped_column(default=0)
