"""`make bench` (ledger part): what a posting costs, its commit counted, against the same rows
written with plain SQL in the same run, and whether postings for different customers run in
parallel (no hot row) on PostgreSQL.

1. postings per second, one thread: `ledger.post_for_customer` (idempotency check, conditional
   balance UPDATE … RETURNING, two entries, the audit entry, commit) against plain SQL writing
   the journal, its two entries and the balance in one transaction. Target: ours >= 0.3x.
2. PostgreSQL only (FORMFLOW_BENCH_DATABASE_URL=postgresql+psycopg://…): 8 threads posting for
   8 customers against 1 thread. Target: >= 2x the postings per second.

Each run uses a database of its own (a temporary SQLite file, or a fresh PostgreSQL schema
dropped afterwards)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from formflow.app import create_app
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger

TARGET_PLAIN_RATIO = 0.3
TARGET_PARALLEL_SPEEDUP = 2.0
THREADS = 8


@contextlib.contextmanager
def database(url: str | None):
    """(SQLAlchemy URL, engine options) of a database nobody else uses."""
    if not url:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite'}", {}
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield url, {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_size": THREADS + 2}
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def make_app(url: str, options: dict, folder: str):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": "bench",
            "INSTANCE_DIR": folder,
            "UPLOAD_FOLDER": folder,
        }
    )
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        for index in range(THREADS):
            customer = customers.create(f"B{index:03d}", f"Bench {index}", "B")
            ledger.post_for_customer(customer, "top_up", Decimal("1000000.00"), key=f"seed-{index}")
        db.session.commit()
    return app


def ours(app, count: int, customer_code: str = "B000", prefix: str = "") -> None:
    with app.app_context():
        customer = customers.get_by_code(customer_code)
        for index in range(count):
            ledger.post_for_customer(
                customer, "usage", Decimal("1.25"), key=f"{prefix}{customer_code}-{index}"
            )
            db.session.commit()
        db.session.remove()


def plain(app, count: int) -> None:
    """The same rows, written with plain SQL: journal, two entries, the balance."""
    with app.app_context():
        ids = dict(db.session.execute(sa.text("SELECT code, id FROM ledger_account")).all())
        prepaid, revenue = ids["customer:B001:prepaid"], ids.get("system:revenue_usage")
        if revenue is None:  # opened by the first posting of ours; open it the plain way
            db.session.execute(
                sa.text(
                    "INSERT INTO ledger_account (code, kind, normal_side, allow_negative, created_at)"
                    " VALUES ('system:revenue_usage', 'revenue_usage', 'credit', true, CURRENT_TIMESTAMP)"
                )
            )
            db.session.commit()
            revenue = db.session.execute(
                sa.text("SELECT id FROM ledger_account WHERE code = 'system:revenue_usage'")
            ).scalar_one()
        cents = db.engine.dialect.name == "sqlite"
        amount = 125 if cents else Decimal("1.25")
        for index in range(count):
            journal = db.session.execute(
                sa.text(
                    "INSERT INTO ledger_journal"
                    " (idempotency_key, content_hash, kind, memo, reference, posted_at)"
                    " VALUES (:key, 'x', 'usage', '', '', CURRENT_TIMESTAMP) RETURNING id"
                ),
                {"key": f"plain-{index}"},
            ).scalar_one()
            balance = db.session.execute(
                sa.text("UPDATE ledger_account SET balance = balance - :a WHERE id = :id RETURNING balance"),
                {"a": amount, "id": prepaid},
            ).scalar_one()
            db.session.execute(
                sa.text(
                    "INSERT INTO ledger_entry (journal_id, account_id, amount, balance_after, posted_at)"
                    " VALUES (:j, :p, :a, :b, CURRENT_TIMESTAMP), (:j, :r, :n, NULL, CURRENT_TIMESTAMP)"
                ),
                {"j": journal, "p": prepaid, "a": amount, "b": balance, "r": revenue, "n": -amount},
            )
            db.session.commit()
        db.session.remove()


def per_second(work, count: int) -> float:
    start = time.perf_counter()
    work()
    return count / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postings", type=int, default=300)
    arguments = parser.parse_args()
    count = arguments.postings
    url = os.environ.get("FORMFLOW_BENCH_DATABASE_URL")
    ok = True
    with database(url) as (database_url, options), tempfile.TemporaryDirectory() as folder:
        app = make_app(database_url, options, folder)
        kind = sa.make_url(database_url).get_backend_name()
        ours(app, 5, prefix="warm-")  # opens the revenue account, warms the caches
        mine = per_second(lambda: ours(app, count), count)
        theirs = per_second(lambda: plain(app, count), count)
        ratio = mine / theirs
        ok &= ratio >= TARGET_PLAIN_RATIO
        print(f"ledger on {kind}: {count} postings, one thread, each committed")
        print(f"   ledger.post {mine:8.0f}/s   plain SQL {theirs:8.0f}/s   "
              f"ours/plain {ratio:4.2f} (target >= {TARGET_PLAIN_RATIO})")  # fmt: skip
        if kind == "postgresql":
            per_thread = max(count // THREADS, 20)
            single = per_second(
                lambda: ours(app, per_thread * THREADS, "B001", "single-"), per_thread * THREADS
            )

            def parallel() -> None:
                threads = [
                    threading.Thread(target=ours, args=(app, per_thread, f"B{index:03d}", "parallel-"))
                    for index in range(THREADS)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()

            together = per_second(parallel, per_thread * THREADS)
            speedup = together / single
            ok &= speedup >= TARGET_PARALLEL_SPEEDUP
            print(f"   {THREADS} threads on {THREADS} customers {together:8.0f}/s   "
                  f"1 thread {single:8.0f}/s   {speedup:4.2f}x "
                  f"(target >= {TARGET_PARALLEL_SPEEDUP}x)")  # fmt: skip
        else:
            print("   (8 threads on 8 customers: PostgreSQL only; set FORMFLOW_BENCH_DATABASE_URL)")
        with app.app_context():
            db.engine.dispose()
    print("RESULT", "OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
