"""Losing a race as a domain error: a concurrent change that only shows when SQLAlchemy
writes (the case's `lock_version` moved on, a unique key taken meanwhile) is a Conflict
(409), whichever statement happened to flush it, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from formflow.errors import Conflict
from formflow.extensions import db


@contextmanager
def lost_race_is_conflict() -> Iterator[None]:
    """Run an action and its commit; StaleDataError / IntegrityError roll back and become
    Conflict. (An autoflush inside any query, e.g. the audit log's, can be where a stale
    case is noticed, so the action is covered as well as the commit.)"""
    try:
        yield
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise Conflict() from None
