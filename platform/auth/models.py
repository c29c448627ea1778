"""Users, their roles, their sessions, API tokens and the failed-login throttle."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.extensions import db, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="UserRole.role",
    )
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", order_by="ApiToken.id", lazy="select"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_authenticated(self) -> bool:
        # A User object is a known identity; whether it may act is `is_active`'s question.
        return True

    #: The plain key of the session this request runs in (set by login and the session
    #: loader, never stored): what Flask-Login keeps in the cookie, see session_identity.
    session_key = None

    def session_identity(self) -> str:
        """Flask-Login's id_attribute: the session's random key, not the user id, so a
        cookie names one revocable server-side session (auth.services.start_session).
        Logged in without one, the user is known for this request only: "" names no row."""
        return self.session_key or ""

    @property
    def role_names(self) -> list[str]:
        return [r.role for r in self.roles]

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="roles")


class ApiToken(db.Model):
    """A bearer token for the API; only its sha256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, to recognise it in lists.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class UserSession(db.Model):
    """One logged-in browser: its cookie carries a random key whose sha256 is stored here.

    Logging out revokes this row only (the user's other devices stay logged in); a password
    change or deactivation revokes all of the user's rows. A replayed session or remember-me
    cookie names a revoked or expired row and gets the login page.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed logins of one username (existing or not, so nothing is revealed) from one
    client address; the row with username_key "" counts every username from that address.

    Counted by an atomic upsert (auth.throttle): concurrent guesses cannot skip the count.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username_key", "address", name="uq_login_throttle_username_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username_key: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    #: How often this row was locked: each lock lasts twice as long as the one before.
    lockouts: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]
