"""Failed-login throttling that holds under concurrency and cannot lock others out everywhere.

Two counters per attempt, both rows of `login_throttle`: the username typed *from this
client address* (LOGIN_MAX_ATTEMPTS), and the address across every username
(LOGIN_MAX_ATTEMPTS_PER_ADDRESS). Anonymous guesses against the admin from one address lock
the admin out from that address only. Each lock lasts twice as long as the one before
(LOGIN_LOCK_MINUTES, 2×, 4×, … at most a day); a row quiet for a day starts afresh.

An attempt is counted *before* its password is checked, by one atomic upsert per row
(INSERT … ON CONFLICT DO UPDATE … RETURNING, on SQLite and PostgreSQL alike): thirty
parallel guesses get the counts 1…30, and only those within the limit reach the password
check. A success gives back what it was counted (and clears the username's row).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from formflow import audit
from formflow.auth.models import LoginThrottle
from formflow.errors import Invalid
from formflow.extensions import db, utcnow

#: The username_key of the row that counts every username from one address.
ALL_USERNAMES = ""
#: A row without failures for this long forgets its failures and its lockouts.
FRESH_START = timedelta(hours=24)
MAX_LOCK = timedelta(hours=24)
_LONG_AGO = datetime(2000, 1, 1)


class LoginRefused(Invalid):
    """Wrong credentials or too many attempts; the message never says which user exists."""


@dataclass(frozen=True)
class Count:
    """One row's count for this attempt, as the upsert returned it."""

    row_id: int
    failures: int
    lockouts: int
    limit: int


@dataclass(frozen=True)
class Attempt:
    username_key: str
    address: str
    counts: tuple[Count, ...]


def username_key(username: str) -> str:
    return username.strip().lower().replace("\x00", "")[:200]


def address_key(remote_addr: str | None) -> str:
    """The address a row is kept for: IPv4 as it is, IPv6 by its /64 (what one subscriber
    gets, so rotating within it gains nothing), "" when the server does not know it."""
    text = (remote_addr or "").strip()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text.replace("\x00", "")[:64]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LoginThrottle.__table__)


def _count(key: str, address: str, now: datetime):
    """Add one failure to the (key, address) row, creating it; a locked row is left as it is."""
    table = LoginThrottle.__table__
    at = sa.literal(now, sa.DateTime())
    locked = sa.func.coalesce(table.c.locked_until, _LONG_AGO) > at
    stale = sa.func.coalesce(table.c.last_failed_at, _LONG_AGO) < sa.literal(now - FRESH_START, sa.DateTime())
    statement = (
        _insert()
        .values(username_key=key, address=address, failures=1, lockouts=0, last_failed_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.username_key, table.c.address],
            set_={
                "failures": sa.case((locked, table.c.failures), (stale, 1), else_=table.c.failures + 1),
                "lockouts": sa.case((sa.and_(stale, sa.not_(locked)), 0), else_=table.c.lockouts),
                "last_failed_at": sa.case((locked, table.c.last_failed_at), else_=at),
            },
        )
        .returning(table.c.id, table.c.failures, table.c.lockouts, table.c.locked_until)
    )
    return db.session.execute(statement).one()


def _lock_length(lockouts: int) -> timedelta:
    first = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    return min(first * 2 ** min(lockouts, 16), MAX_LOCK)


def _lock(count: Count, now: datetime) -> datetime:
    """Lock the row (once per lockout, however many requests try) and say until when."""
    locked = db.session.execute(
        sa.update(LoginThrottle)
        .where(
            LoginThrottle.id == count.row_id,
            LoginThrottle.lockouts == count.lockouts,
            sa.func.coalesce(LoginThrottle.locked_until, _LONG_AGO) <= now,
        )
        .values(locked_until=now + _lock_length(count.lockouts), lockouts=count.lockouts + 1, failures=0)
        .returning(LoginThrottle.locked_until, LoginThrottle.username_key, LoginThrottle.address)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if locked is None:  # another request locked it first
        locked_until = db.session.execute(
            sa.select(LoginThrottle.locked_until).where(LoginThrottle.id == count.row_id)
        ).scalar_one()
        return locked_until or now
    until = locked.locked_until.isoformat()
    after = {"address": locked.address, "locked_until": until, "lockout": count.lockouts + 1}
    audit.record("auth.login_locked", "login", locked.username_key or "*", after=after, actor=None)
    return locked.locked_until


def _refused(locked_until: datetime, now: datetime) -> LoginRefused:
    minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
    return LoginRefused(message=_("Too many failed attempts. Try again in %(n)d minutes.", n=minutes))


def count_attempt(username: str, remote_addr: str | None, *, now: datetime | None = None) -> Attempt:
    """Count a login attempt before its password is checked; LoginRefused when the username
    from this address, or the address, is locked or has used up its attempts.

    The caller commits right after (also on refusal), so the count stands and the rows'
    locks are not held while the password hash is computed.
    """
    now = now or utcnow()
    key, address = username_key(username), address_key(remote_addr)
    config = current_app.config
    counts = []
    for row_key, limit in (
        (key, config["LOGIN_MAX_ATTEMPTS"]),
        (ALL_USERNAMES, config["LOGIN_MAX_ATTEMPTS_PER_ADDRESS"]),
    ):
        row = _count(row_key, address, now)
        if row.locked_until is not None and row.locked_until > now:
            raise _refused(row.locked_until, now)
        count = Count(row.id, row.failures, row.lockouts, limit)
        if row.failures > limit:  # parallel attempts beyond the limit: never checked
            raise _refused(_lock(count, now), now)
        counts.append(count)
    return Attempt(key, address, tuple(counts))


def failed(attempt: Attempt, *, now: datetime | None = None) -> None:
    """The password was wrong: the attempt stays counted; the row whose limit it reached locks."""
    now = now or utcnow()
    for count in attempt.counts:
        if count.failures >= count.limit:
            _lock(count, now)
    after = {"address": attempt.address}
    audit.record("auth.login_failed", "login", attempt.username_key, after=after, actor=None)


def succeeded(attempt: Attempt) -> None:
    """The right password: the username's row is cleared, the address gets its attempt back."""
    user_count, address_count = attempt.counts
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.id == user_count.row_id))
    db.session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.id == address_count.row_id, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
        .execution_options(synchronize_session=False)
    )


# --- seeing and lifting locks (admin, CLI) -------------------------------------------------


def locks(*, username: str | None = None, now: datetime | None = None) -> list[LoginThrottle]:
    """Rows locked now, the longest first; only those of `username` when given."""
    query = sa.select(LoginThrottle).where(LoginThrottle.locked_until > (now or utcnow()))
    if username is not None:
        query = query.where(LoginThrottle.username_key == username_key(username))
    return list(db.session.execute(query.order_by(LoginThrottle.locked_until.desc()).limit(200)).scalars())


def get_lock(lock_id: int) -> LoginThrottle | None:
    return db.session.get(LoginThrottle, lock_id)


def _described(row: LoginThrottle) -> dict:
    return {
        "username": row.username_key or "*",
        "address": row.address,
        "locked_until": row.locked_until.isoformat() if row.locked_until else None,
        "lockouts": row.lockouts,
    }


def unlock(rows: list[LoginThrottle], *, actor=None) -> int:
    """Forget these rows (count, lock and backoff), audited; returns how many there were."""
    for row in rows:
        audit.record("auth.unlock", "login", row.username_key or "*", before=_described(row), actor=actor)
        db.session.delete(row)
    db.session.flush()
    return len(rows)


def rows(*, username: str | None = None, address: str | None = None) -> list[LoginThrottle]:
    """Every row (locked or only counting) of `username`, from `address`, or both."""
    query = sa.select(LoginThrottle).order_by(LoginThrottle.id)
    if username is not None:
        query = query.where(LoginThrottle.username_key == username_key(username))
    if address is not None:
        query = query.where(LoginThrottle.address == address_key(address))
    return list(db.session.execute(query).scalars())


def unlock_username(username: str, *, actor=None) -> int:
    """Lift every lock and count of `username`, from every address."""
    return unlock(rows(username=username), actor=actor)


def purge(now: datetime) -> int:
    """Drop rows that would start afresh anyway (quiet for FRESH_START, not locked)."""
    result = db.session.execute(
        sa.delete(LoginThrottle).where(
            sa.func.coalesce(LoginThrottle.last_failed_at, _LONG_AGO) < now - FRESH_START,
            sa.func.coalesce(LoginThrottle.locked_until, _LONG_AGO) <= now,
        )
    )
    return result.rowcount
