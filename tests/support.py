"""Test helpers shared by fixtures and tests: fresh databases and app factories."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from formflow.app import create_app
from formflow.extensions import db

DATABASE = os.environ.get("FORMFLOW_TEST_DATABASE", "sqlite")
PG_URL = os.environ.get("FORMFLOW_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct-horse-9"


@dataclass
class TestDatabase:
    url: str
    engine_options: dict

    def app_config(self) -> dict:
        return {"SQLALCHEMY_DATABASE_URI": self.url, "SQLALCHEMY_ENGINE_OPTIONS": self.engine_options}


@contextlib.contextmanager
def fresh_database(tmp_path) -> Iterator[TestDatabase]:
    """An empty database nobody else uses, removed afterwards."""
    if DATABASE == "sqlite":
        yield TestDatabase(f"sqlite:///{tmp_path / f'test-{uuid.uuid4().hex[:8]}.sqlite'}", {})
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield TestDatabase(PG_URL, {"connect_args": {"options": f"-csearch_path={schema}"}})
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def make_app(database: TestDatabase, tmp_path, **extra):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "LOGIN_MAX_ATTEMPTS": 5,
        "LOGIN_LOCK_MINUTES": 15,
        **database.app_config(),
        **extra,
    }
    return create_app(config)


def migrate_to_head(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        db.engine.dispose()


def finishes(work, seconds: float = 10) -> bool:
    """Whether `work` returns within `seconds` (a hang detector, not a speed target)."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def nodes_together(app, work, nodes: int, timeout: float = 300) -> tuple[list, list]:
    """`work()` run by `nodes` threads at once (as nodes of a cluster would, each with its own
    app context and session), released together by a barrier: (their results, their errors)."""
    start = threading.Barrier(nodes)
    results, failures = [], []

    def node() -> None:
        try:
            with app.app_context():
                start.wait()
                results.append(work())
        except BaseException as error:  # reported to the caller
            failures.append(error)

    threads = [threading.Thread(target=node) for _ in range(nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, failures
