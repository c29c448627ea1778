"""Engine behaviour we rely on, set once for every engine the process creates."""

from __future__ import annotations

import sqlite3

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Hand transaction control to SQLAlchemy (pysqlite's own is broken for SAVEPOINT),
    # see the "Serializable isolation / Savepoints" recipe in SQLAlchemy's SQLite docs.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


#: Requests that only read: their transactions take no write lock (WAL lets them read while
#: another connection writes), so a page, an export or the health check never waits for a
#: writer and never holds one up, however long it takes.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(begin_statement())


def begin_statement() -> str:
    """DEFERRED for reading requests; IMMEDIATE otherwise: a transaction that reads, then
    writes (a balance, the audit head) takes the write lock up front and waits its turn
    instead of failing with SQLITE_BUSY half-way (the same default Rails chose for SQLite).
    A writing request reaches its first statement only after its whole body has arrived
    (inputguard reads it first), so a slow client never holds the lock."""
    if has_request_context() and request.method in READING_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"
