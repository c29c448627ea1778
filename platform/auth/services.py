"""Creating and changing users, logging in, API tokens. Services flush; the edge commits."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from formflow import audit
from formflow.auth import passwords, sessions, throttle
from formflow.auth.current import acting_user
from formflow.auth.models import ApiToken, User, UserRole
from formflow.auth.permissions import ROLES
from formflow.auth.throttle import LoginRefused
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db, utcnow

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{2,80}$")
TOKEN_PREFIX = "ff_"
# Checked against when the username does not exist, so a miss costs as much as a hit.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def snapshot(user: User) -> dict:
    """What the audit log keeps of a user (never the password hash)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "active": user.active,
        "roles": sorted(user.role_names),
    }


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def find_user(username: str) -> User | None:
    return db.session.execute(
        sa.select(User).where(sa.func.lower(User.username) == username.strip().lower())
    ).scalar_one_or_none()


def list_users() -> list[User]:
    return list(db.session.execute(sa.select(User).order_by(User.username)).scalars())


def _check_roles(roles: list[str]) -> list[dict]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        return [{"pointer": "/roles", "message": _("Unknown role: %(role)s", role=unknown[0])}]
    return []


def _check_profile(display_name: str, email: str | None) -> list[dict]:
    errors = []
    if len(display_name) > 200:
        errors.append({"pointer": "/display_name", "message": _("At most %(n)d characters.", n=200)})
    if email and (len(email) > 254 or "@" not in email):
        errors.append({"pointer": "/email", "message": _("Not a valid e-mail address.")})
    return errors


def _set_roles(user: User, roles: list[str]) -> None:
    wanted = sorted(set(roles))
    user.roles = [r for r in user.roles if r.role in wanted]
    have = set(user.role_names)
    user.roles.extend(UserRole(role=r) for r in wanted if r not in have)


def create_user(
    username: str,
    password: str,
    roles: list[str],
    *,
    display_name: str = "",
    email: str | None = None,
    actor=None,
    enforce_password_policy: bool = True,
) -> User:
    username = username.strip()
    errors = []
    if not USERNAME_PATTERN.match(username):
        errors.append({"pointer": "/username", "message": _("Use 2–80 letters, digits or . _ @ -")})
    elif find_user(username) is not None:
        errors.append({"pointer": "/username", "message": _("This username is already taken.")})
    if enforce_password_policy:  # off only for the demo users (formflow/demo.py)
        errors += passwords.problems(password, username=username)
    errors += _check_roles(roles) + _check_profile(display_name.strip(), (email or "").strip())
    if errors:
        raise Invalid(errors)
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=(email or "").strip() or None,
        password_hash=generate_password_hash(password),
    )
    _set_roles(user, roles)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", "user", user.id, after=snapshot(user), actor=actor)
    return user


def _guard_last_admin(user: User, *, losing_admin: bool) -> None:
    if not losing_admin or not user.has_role("admin") or not user.active:
        return
    other_admins = db.session.execute(
        sa.select(sa.func.count())
        .select_from(User)
        .join(UserRole)
        .where(UserRole.role == "admin", User.active.is_(True), User.id != user.id)
    ).scalar_one()
    if other_admins == 0:
        raise Conflict(_("This is the last active administrator; keep at least one."))


def update_user(user: User, *, display_name: str, email: str | None, roles: list[str], actor=None) -> User:
    errors = _check_roles(roles) + _check_profile(display_name.strip(), (email or "").strip())
    if errors:
        raise Invalid(errors)
    _guard_last_admin(user, losing_admin="admin" not in roles)
    before = snapshot(user)
    user.display_name = display_name.strip()
    user.email = (email or "").strip() or None
    _set_roles(user, roles)
    db.session.flush()
    after = snapshot(user)
    if after != before:
        audit.record("user.update", "user", user.id, before=before, after=after, actor=actor)
    return user


def set_active(user: User, active: bool, *, actor=None) -> User:
    if user.active == active:
        return user
    if not active:
        actor = actor or acting_user()
        if actor is not None and actor.id == user.id:
            raise Conflict(_("You cannot deactivate yourself."))
        _guard_last_admin(user, losing_admin=True)
    before = snapshot(user)
    user.active = active
    db.session.flush()
    action = "user.activate" if active else "user.deactivate"
    audit.record(action, "user", user.id, before=before, after=snapshot(user), actor=actor)
    if not active:
        # Deactivation ends every way in: sessions, and the API tokens for good, so that
        # reactivating the user later does not bring old tokens back to life.
        sessions.end_all(user)
        for token in user.tokens:
            revoke_token(token, actor=actor)
    return user


def reset_password(user: User, new_password: str, *, actor=None) -> None:
    """Set a new password (admin reset); every existing session of the user ends."""
    errors = passwords.problems(new_password, username=user.username)
    if errors:
        raise Invalid(errors)
    user.password_hash = generate_password_hash(new_password)
    sessions.end_all(user)
    db.session.flush()
    audit.record("user.password_reset", "user", user.id, after={"password_changed": True}, actor=actor)


def change_own_password(user: User, current: str, new: str) -> None:
    """Every session of the user ends, this one too: the caller starts a new one."""
    if not check_password_hash(user.password_hash, current):
        raise Invalid([{"pointer": "/current_password", "message": _("The current password is wrong.")}])
    errors = passwords.problems(new, username=user.username, pointer="/new_password")
    if errors:
        raise Invalid(errors)
    user.password_hash = generate_password_hash(new)
    sessions.end_all(user)
    db.session.flush()
    audit.record("user.password_change", "user", user.id, after={"password_changed": True}, actor=user)


# --- logging in -------------------------------------------------------------------


def count_login_attempt(username: str, remote_addr: str | None) -> throttle.Attempt:
    """Count the attempt before the password is checked (auth/throttle.py); LoginRefused
    when the username from this address, or the address, is locked. The caller commits."""
    if not throttle.username_key(username):
        raise LoginRefused(message=_("Invalid username or password."))
    return throttle.count_attempt(username, remote_addr)


def authenticate(attempt: throttle.Attempt, username: str, password: str) -> User:
    """The active user with these credentials, or LoginRefused (the count stands, and the
    row reaching its limit locks). The caller commits even on refusal."""
    user = find_user(username)
    password_ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not password_ok or not user.active:
        throttle.failed(attempt)
        raise LoginRefused(message=_("Invalid username or password."))
    throttle.succeeded(attempt)
    user.last_login_at = utcnow()
    db.session.flush()
    audit.record("auth.login", "user", user.id, after={"address": attempt.address}, actor=user)
    return user


def start_session(user: User, *, remember: bool, address: str | None = None, user_agent: str = "") -> str:
    """A new server-side session (auth/sessions.py) for login_user(); returns its key."""
    return sessions.start(user, remember=remember, address=address or "", user_agent=user_agent)


def end_session(user: User) -> None:
    """Logout: this session ends on the server; the user's other sessions go on."""
    sessions.end(user)
    audit.record("auth.logout", "user", user.id, actor=user)


def load_session_user(session_key: str) -> User | None:
    """Flask-Login's user loader: the user of a live session, else None (-> login page)."""
    return sessions.load(session_key)


@dataclass
class PurgeReport:
    sessions: int
    throttles: int


def purge_login_records(now: datetime) -> PurgeReport:
    """A `formflow tick` job: drop ended sessions and throttle rows that start afresh anyway."""
    return PurgeReport(sessions=sessions.purge(now), throttles=throttle.purge(now))


# --- API tokens -----------------------------------------------------------------------


def _token_digest(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough and keeps lookups indexed.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str = "", *, actor=None) -> tuple[str, ApiToken]:
    """A new token for `user`; the plain token is returned once and never stored."""
    if not user.active:
        raise Conflict(_("The user is deactivated."))
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name.strip()[:100], token_hash=_token_digest(plain), prefix=plain[:10])
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.create",
        "api_token",
        token.id,
        after={"user": user.username, "name": token.name, "prefix": token.prefix},
        actor=actor,
    )
    return plain, token


def revoke_token(token: ApiToken, *, actor=None) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        "token.revoke",
        "api_token",
        token.id,
        after={"user": token.user.username, "prefix": token.prefix},
        actor=actor,
    )


def get_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("No such token."))
    return token


def user_for_token(plain: str) -> User | None:
    """The active user owning this unrevoked token, or None."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = db.session.execute(
        sa.select(ApiToken).where(ApiToken.token_hash == _token_digest(plain))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now  # at most one write a minute per token
    return token.user
