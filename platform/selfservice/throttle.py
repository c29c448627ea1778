"""Rate limits of the self-service pages: requests per link and per client address within a
window (SELF_SERVICE_WINDOW_SECONDS), each counted by one atomic upsert (INSERT … ON CONFLICT
DO UPDATE … RETURNING, as the login throttle counts), so parallel requests get distinct counts
and none slips past the limit. A key keeps only its current window's row."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from formflow.auth.throttle import address_key
from formflow.extensions import db, utcnow
from formflow.selfservice.models import SelfServiceThrottle


class TooManyRequests(Exception):
    """The link or the address has used up its requests for this window."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _window(now: datetime) -> tuple[datetime, int]:
    seconds = max(1, int(current_app.config["SELF_SERVICE_WINDOW_SECONDS"]))
    epoch = int((now - datetime(2000, 1, 1)).total_seconds())
    start = datetime(2000, 1, 1) + timedelta(seconds=epoch - epoch % seconds)
    return start, seconds


def _hit(key: str, start: datetime) -> int:
    table = SelfServiceThrottle.__table__
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = (
        insert.values(key=key, window_start=start, hits=1)
        .on_conflict_do_update(
            index_elements=[table.c.key, table.c.window_start], set_={"hits": table.c.hits + 1}
        )
        .returning(table.c.hits)
    )
    hits = db.session.execute(statement).scalar_one()
    if hits == 1:  # a new window: the key's older rows are done with
        db.session.execute(
            sa.delete(SelfServiceThrottle).where(
                SelfServiceThrottle.key == key, SelfServiceThrottle.window_start < start
            )
        )
    return hits


def count(key: str, limit: int, now: datetime | None = None) -> int:
    """Count one request for `key`; TooManyRequests beyond `limit` in this window. The caller
    commits (also on refusal, so the count stands)."""
    now = now or utcnow()
    start, seconds = _window(now)
    hits = _hit(key[:100], start)
    if hits > limit:
        raise TooManyRequests(max(1, int((start + timedelta(seconds=seconds) - now).total_seconds())))
    return hits


def count_address(remote_addr: str | None, now: datetime | None = None) -> int:
    return count("addr:" + address_key(remote_addr), current_app.config["SELF_SERVICE_MAX_PER_ADDRESS"], now)


def count_link(link_id: int, now: datetime | None = None) -> int:
    return count(f"link:{link_id}", current_app.config["SELF_SERVICE_MAX_PER_LINK"], now)
