"""Server-side sessions: a cookie names one `user_session` row by a random key.

Flask's session cookie is signed, not stored: without a row behind it a copied cookie would
stay valid after logout. Here the cookie (and the remember-me cookie, which Flask-Login fills
from the same identity) carries 256 random bits; the row keeps their sha256, when the session
ends (REMEMBER_COOKIE_DURATION with "remember me", else BROWSER_SESSION_LIFETIME) and
whether it was revoked. Logging out revokes one row, so the user's other devices stay logged
in; a password change or deactivation revokes all of them.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from formflow.auth.models import User, UserSession
from formflow.extensions import db, utcnow


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(user: User, *, remember: bool, address: str = "", user_agent: str = "") -> str:
    """A new session for `user`; its key is set on `user.session_key` for login_user()."""
    now = utcnow()
    lifetime = current_app.config["REMEMBER_COOKIE_DURATION" if remember else "BROWSER_SESSION_LIFETIME"]
    key = secrets.token_urlsafe(32)
    # The user's ended sessions are of no further use: drop them here, so rows stay few
    # even where `formflow tick` does not run.
    db.session.execute(
        sa.delete(UserSession).where(
            UserSession.user_id == user.id,
            sa.or_(UserSession.revoked_at.is_not(None), UserSession.expires_at <= now),
        )
    )
    db.session.add(
        UserSession(
            user_id=user.id,
            key_hash=_digest(key),
            remember=remember,
            address=(address or "")[:64],
            user_agent=(user_agent or "")[:200],
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    db.session.flush()
    user.session_key = key
    return key


def load(key: str) -> User | None:
    """The active user of the live session `key`, or None (revoked, expired, unknown)."""
    if not key or len(key) > 100:
        return None
    row = db.session.execute(
        sa.select(UserSession).where(UserSession.key_hash == _digest(key))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.user.active:
        return None
    row.user.session_key = key
    return row.user


def end(user: User) -> None:
    """End the session this request runs in (logout)."""
    if user.session_key:
        _revoke(UserSession.key_hash == _digest(user.session_key))


def end_all(user: User) -> int:
    """End every session of `user` (password change, reset, deactivation)."""
    return _revoke(UserSession.user_id == user.id)


def _revoke(condition) -> int:
    result = db.session.execute(
        sa.update(UserSession)
        .where(condition, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def live(user: User) -> list[UserSession]:
    """The user's sessions that still let someone in, newest first."""
    return list(
        db.session.execute(
            sa.select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > utcnow(),
            )
            .order_by(UserSession.created_at.desc())
        ).scalars()
    )


def purge(now: datetime) -> int:
    """Drop ended sessions (revoked or expired)."""
    ended = sa.or_(UserSession.revoked_at.is_not(None), UserSession.expires_at <= now)
    result = db.session.execute(sa.delete(UserSession).where(ended))
    return result.rowcount
