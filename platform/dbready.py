"""Is the database set up? `state()` answers cheaply (a missing SQLite file is never created,
else one look at `alembic_version` against the migrations' heads); `guarded(callback)` makes
a CLI command say so in one line and exit 2 instead of a traceback."""

from __future__ import annotations

import functools
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from formflow.extensions import db

READY, MISSING, UNMIGRATED = "ready", "missing", "unmigrated"

#: What SQLite and PostgreSQL say about a table or column the schema lacks.
_SCHEMA_MISSING = ("no such table", "no such column", "does not exist", "undefinedtable", "undefinedcolumn")


def _sqlite_file(url: sa.URL) -> Path | None:
    """The file of a SQLite URL (None for memory databases and other backends)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None  # a URI filename: let SQLite itself decide
    return Path(url.database)


def _heads() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory(current_app.config["MIGRATIONS_DIR"]).get_heads())


def state() -> str:
    """READY when the schema is at the migrations' head, MISSING when there is no database
    (a SQLite file that does not exist), UNMIGRATED otherwise (no or an older
    `alembic_version`). Needs an app context; raises DBAPIError when the server is unreachable."""
    path = _sqlite_file(db.engine.url)
    if path is not None and (not path.exists() or path.stat().st_size == 0):
        return MISSING if not path.exists() else UNMIGRATED
    try:
        connection = db.session.connection()
        if not sa.inspect(connection).has_table("alembic_version"):
            return UNMIGRATED
        current = set(connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        db.session.rollback()
    return READY if current and current == _heads() else UNMIGRATED


def is_ready() -> bool:
    """Whether the schema is there; False also when the database cannot be reached."""
    try:
        return state() == READY
    except DBAPIError:
        return False


def not_set_up_message() -> str:
    return _("the database is not set up: run `flask --app wsgi formflow init-db`")


def fail() -> None:
    """Say the database is not set up (one line on stderr) and exit 2."""
    click.echo(not_set_up_message(), err=True)
    raise SystemExit(2)


def is_schema_missing(error: BaseException) -> bool:
    """Whether a database error says a table or column of the schema is missing."""
    if not isinstance(error, (OperationalError, ProgrammingError)):
        return False
    text = f"{type(getattr(error, 'orig', None)).__name__} {error}".lower()
    return any(marker in text for marker in _SCHEMA_MISSING)


def guarded(callback):
    """`callback` (a command's, run in an app context) refused with `fail()` unless the schema
    is at head; a missing table found later still ends in `fail()`, not a traceback."""

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        try:
            ready = state() == READY
        except DBAPIError as error:
            if not is_schema_missing(error):
                first = str(getattr(error, "orig", error)).strip().splitlines() or [type(error).__name__]
                click.echo(_("cannot reach the database: %(error)s", error=first[0]), err=True)
                raise SystemExit(2) from None
            ready = False
        if not ready:
            fail()
        try:
            return callback(*args, **kwargs)
        except (OperationalError, ProgrammingError) as error:
            if not is_schema_missing(error):
                raise
            db.session.rollback()
            fail()

    return wrapper
