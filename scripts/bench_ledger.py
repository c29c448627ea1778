"""`make bench` (ledger part): what a posting costs, its commit counted, against the same rows
written with plain SQL in the same run, and whether postings for different customers run in
parallel (no hot row) on PostgreSQL.

1. postings per second, one thread: `ledger.post_for_customer` (the accounts, conditional
   balance UPDATE … RETURNING, the journal by its idempotency key, two entries, the audit entry,
   commit) against plain SQL writing the same rows (the journal, its two entries, the balance,
   the audit entry and its head) in one transaction each. Target: ours >= 0.3x. For reference,
   plain SQL without the audit entry too.
2. PostgreSQL only (FORMFLOW_BENCH_DATABASE_URL=postgresql+psycopg://…): 8 threads posting for
   8 customers against 1 thread. Target: >= 2x the postings per second. Threads share one
   interpreter lock: the script prints the CPU one posting takes in this process, and so the
   most threads can give here (wall / CPU), with the machine's cores and load. For reference,
   8 processes (as a server's workers run) against 1 thread: what the database allows when the
   interpreter lock is out of the way.

Each run uses a database of its own (a temporary SQLite file, or a fresh PostgreSQL schema
dropped afterwards)."""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
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
from formflow.ledger import alerts
from formflow.ledger import services as ledger

TARGET_PLAIN_RATIO = 0.3
TARGET_PARALLEL_SPEEDUP = 2.0
THREADS = 8
ROUNDS = 5
#: postings per worker process and turn (8 processes on 8 customers)
PER_PROCESS = 25


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


def _config(url: str, options: dict, folder: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": options,
        "SECRET_KEY": "bench",
        "INSTANCE_DIR": folder,
        "UPLOAD_FOLDER": folder,
    }


def make_app(url: str, options: dict, folder: str):
    app = create_app(_config(url, options, folder))
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        # as configured in production: each usage checks its tier's low-balance threshold
        alerts.create_threshold_table([["A", 10000], ["B", 5000], ["C", 1000]])
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


def plain(app, count: int, prefix: str = "", *, audited: bool = True) -> None:
    """The same rows, written with plain SQL: journal, two entries, the balance, and (`audited`)
    the audit entry with its head."""
    with app.app_context():
        ids = dict(db.session.execute(sa.text("SELECT code, id FROM ledger_account")).all())
        prepaid, revenue = ids["customer:B001:prepaid"], ids["system:revenue_usage"]  # opened by ours
        cents = db.engine.dialect.name == "sqlite"
        amount = 125 if cents else Decimal("1.25")
        prefix = f"{prefix}plain-" if audited else f"{prefix}plain-unaudited-"
        for index in range(count):
            journal = db.session.execute(
                sa.text(
                    "INSERT INTO ledger_journal"
                    " (idempotency_key, content_hash, kind, memo, reference, posted_at)"
                    " VALUES (:key, 'x', 'usage', '', '', CURRENT_TIMESTAMP) RETURNING id"
                ),
                {"key": f"{prefix}{index}"},
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
            if audited:
                _plain_audit_entry(journal)
            db.session.commit()
        db.session.remove()


def _plain_audit_entry(journal: int) -> None:
    seq = db.session.execute(
        sa.text("UPDATE audit_head SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq")
    ).scalar_one()
    entry_hash = f"{seq:064x}"
    db.session.execute(
        sa.text(
            "INSERT INTO audit_entry (seq, at, actor_name, action, object_type, object_id, after,"
            " prev_hash, hash) VALUES (:seq, CURRENT_TIMESTAMP, 'system', 'ledger.post', 'journal', :id,"
            " :after, :prev, :hash)"
        ),
        {
            "seq": seq,
            "id": str(journal),
            "after": '{"kind": "usage"}',
            "prev": f"{seq - 1:064x}",
            "hash": entry_hash,
        },
    )
    db.session.execute(sa.text("UPDATE audit_head SET last_hash = :hash WHERE id = 1"), {"hash": entry_hash})


def _worker(config: dict, customer_code: str, count: int, prefix: str, start, done) -> None:
    app = create_app(config)  # an engine of its own, not the parent's connections
    ours(app, 2, customer_code, f"{prefix}warm-")
    start.wait()
    ours(app, count, customer_code, prefix)
    done.wait()
    with app.app_context():
        db.engine.dispose()


def in_processes(config: dict, count: int, prefix: str) -> float:
    """`count` postings by THREADS worker processes, one customer each; their start-up is
    not counted (they wait for each other, warmed up, before the clock's part begins), nor their
    ending (the clock stops when the last has committed its last posting)."""
    context = multiprocessing.get_context("spawn")
    start, done = context.Barrier(THREADS + 1), context.Barrier(THREADS + 1)
    workers = [
        context.Process(
            target=_worker,
            args=(config, f"B{index:03d}", count // THREADS, f"{prefix}process-", start, done),
        )
        for index in range(THREADS)
    ]
    for worker in workers:
        worker.start()
    start.wait(timeout=300)
    began = time.perf_counter()
    done.wait(timeout=300)  # a worker that failed breaks the barrier (BrokenBarrierError)
    took = time.perf_counter() - began
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"a posting process failed (exit {worker.exitcode})")
    return took


def statements_per_posting(app, count: int = 5) -> float:
    """The SQL statements one customer posting sends, its commit counted."""
    sent = []

    def count_one(*args) -> None:
        sent.append(args)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count_one)
        sa.event.listen(db.engine, "commit", count_one)
        try:
            ours(app, count, prefix="counted-")
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count_one)
            sa.event.remove(db.engine, "commit", count_one)
    return len(sent) / count


def per_second(work, count: int) -> float:
    start = time.perf_counter()
    work()
    return count / (time.perf_counter() - start)


def interleaved(count: int, **works) -> dict[str, float]:
    """Postings per second of each work(n, prefix), run in ROUNDS turns of count/ROUNDS each, one
    after the other, so that a change of the machine's load (other jobs) falls on all alike. A
    work that returns a number gives the seconds its postings took (its start-up left out)."""
    seconds = dict.fromkeys(works, 0.0)
    each = max(count // ROUNDS, 1)
    for round_ in range(ROUNDS):
        for name, work in works.items():
            start = time.perf_counter()
            took = work(each, f"r{round_}-")
            seconds[name] += took if took is not None else time.perf_counter() - start
    return {name: each * ROUNDS / spent for name, spent in seconds.items()}


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postings", type=int, default=300, help="postings per measurement (default 300)")
    arguments = parser.parse_args()
    count = arguments.postings
    url = os.environ.get("FORMFLOW_BENCH_DATABASE_URL")
    ok = True
    with database(url) as (database_url, options), tempfile.TemporaryDirectory() as folder:
        app = make_app(database_url, options, folder)
        kind = sa.make_url(database_url).get_backend_name()
        ours(app, 5, prefix="warm-")  # opens the revenue account, warms the caches
        statements = statements_per_posting(app)
        cpu = time.process_time()
        wall_ms = 1000 / per_second(lambda: ours(app, count, prefix="cpu-"), count)
        cpu_ms = (time.process_time() - cpu) * 1000 / count
        rates = interleaved(
            count,
            ours=lambda n, prefix: ours(app, n, "B001", prefix),
            plain=lambda n, prefix: plain(app, n, prefix),
            unaudited=lambda n, prefix: plain(app, n, prefix, audited=False),
        )
        mine, theirs, unaudited = rates["ours"], rates["plain"], rates["unaudited"]
        ratio = mine / theirs
        ok &= ratio >= TARGET_PLAIN_RATIO
        print(
            f"ledger on {kind}: {count} postings a measure (in {ROUNDS} turns), one thread, each committed; "
            f"{statements:.0f} statements a posting (its commit counted)"
        )
        print(
            f"   ledger.post {mine:8.0f}/s   plain SQL, same rows {theirs:8.0f}/s   ours/plain {ratio:4.2f}"
            f" (target >= {TARGET_PLAIN_RATIO}: {verdict(ratio >= TARGET_PLAIN_RATIO)})"
        )
        print(f"   (plain SQL without the audit entry {unaudited:8.0f}/s: ours/that {mine / unaudited:4.2f})")
        if kind == "postgresql":
            per_thread = max(count // THREADS // ROUNDS, 4)

            def parallel(n: int, prefix: str) -> None:
                threads = [
                    threading.Thread(
                        target=ours, args=(app, n // THREADS, f"B{index:03d}", f"{prefix}parallel-")
                    )
                    for index in range(THREADS)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()

            rates = interleaved(
                per_thread * THREADS * ROUNDS,
                single=lambda n, prefix: ours(app, n, "B001", f"{prefix}single-"),
                together=parallel,
            )
            single, together = rates["single"], rates["together"]
            speedup = together / single
            ok &= speedup >= TARGET_PARALLEL_SPEEDUP
            print(
                f"   {THREADS} threads on {THREADS} customers {together:8.0f}/s   "
                f"1 thread {single:8.0f}/s   {speedup:4.2f}x "
                f"(target >= {TARGET_PARALLEL_SPEEDUP}x: {verdict(speedup >= TARGET_PARALLEL_SPEEDUP)})"
            )
            print(
                f"   one posting: {wall_ms:.2f} ms, {cpu_ms:.2f} ms of it this process's CPU: threads can"
                f" give at most ~{wall_ms / cpu_ms:.1f}x here ({os.cpu_count()} cores,"
                f" load {os.getloadavg()[0]:.1f}, the database on the same machine)"
            )
            config = _config(database_url, options, folder)
            rates = interleaved(
                PER_PROCESS * THREADS * ROUNDS,
                single=lambda n, prefix: ours(app, n, "B001", f"{prefix}single-p-"),
                processes=lambda n, prefix: in_processes(config, n, prefix),
            )
            print(
                f"   (for reference: {THREADS} processes on {THREADS} customers {rates['processes']:8.0f}/s"
                f"   1 thread {rates['single']:8.0f}/s   {rates['processes'] / rates['single']:4.2f}x)"
            )
        else:
            print("   (8 threads on 8 customers: PostgreSQL only; set FORMFLOW_BENCH_DATABASE_URL)")
        with app.app_context():
            db.engine.dispose()
    print("RESULT", "OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
