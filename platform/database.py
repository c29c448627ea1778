"""Engine behaviour we rely on, set once for every engine the process creates."""

from __future__ import annotations

import sqlite3

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


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        # IMMEDIATE takes the write lock up front: a transaction that reads, then
        # writes (a balance, the audit head) waits its turn instead of failing with
        # SQLITE_BUSY half-way. The same default Rails chose for SQLite.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
