"""`make bench` (fee run part): what the monthly fee run costs for many customers, against the
same journals written with plain SQL in the same run, what a rerun costs, and whether its memory
stays flat as the customers grow (run it on PostgreSQL: FORMFLOW_BENCH_DATABASE_URL=…).

The customers (default 100,000): each has a prepaid top-up and a subscription to a monthly plan
of a fixed 300.00 that started in the month before the run date (on days 1 to 28), so one or two
periods are due; one in ten has topped up less than the fee, so its charges go (in part) to the
receivable and an invoice is issued with each. They are written in bulk (not timed: the setup's
time is printed, not compared).

1. charges per second: `fee_run.run_fees` for the run date, all of it (the subscriptions read,
   each charge claimed, posted and recorded, the invoices issued, a commit per chunk), against
   plain SQL writing the same journals in transactions of a chunk each, into a database set up
   alike: the journal, its entries, the customer balances moved, the audit entry and its head,
   as bench_ledger's baseline writes them. Target: ours >= 0.25x.
2. the rerun: `run_fees` again for the same date. Target: <= 10% of the first run's time, and
   0 rows written.
3. memory: what the fee run adds to its process at its peak (the peak resident set, reset at
   the run's start, less the resident set then), each size run in a fresh process of its own:
   10,000 customers against all of them (with fewer than 10,000 customers: a tenth of them).
   Target: within 50 MB of each other (flat).

Each size uses a database of its own (a temporary SQLite file, or a fresh PostgreSQL schema
dropped afterwards). The script exits 0 whether the targets are met or not (it is a report),
non-zero on an error."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from bench_ledger import _config, _plain_audit_entry, database
from flask_migrate import upgrade

from formflow.app import create_app
from formflow.billing import fee_run, plans
from formflow.billing.calendar import periods, shifted
from formflow.billing.models import Subscription
from formflow.customers.models import Customer
from formflow.extensions import db
from formflow.ledger import alerts
from formflow.ledger import services as ledger
from formflow.ledger.models import Account, Entry, Journal

TARGET_PLAIN_RATIO = 0.25
TARGET_RERUN_SHARE = 0.10
TARGET_MEMORY_MB = 50
MEMORY_SIZE = 10_000
#: the business date of the run
TODAY = date(2026, 3, 15)
FEE = Decimal("300.00")
TOP_UP, SHORT_TOP_UP = Decimal("1000.00"), Decimal("100.00")
#: one customer in SHORT_EVERY has topped up less than the fee
SHORT_EVERY = 10
#: rows written per statement while setting up
BATCH = 5000
PLAN = "bench_monthly"
MONTHLY = {
    "id": "monthly",
    "title": {"zh-CN": "月度管理费", "en": "Monthly management fee"},
    "when": "period",
    "frequency": "monthly",
    "amount": str(FEE),
}
#: the tables whose rows are counted before and after each run
COUNTED = ("ledger_journal", "ledger_entry", "ledger_account", "fee_charge", "billing_invoice", "audit_entry")
CUSTOMER, ACCOUNT, JOURNAL, ENTRY = (
    Customer.__table__,
    Account.__table__,
    Journal.__table__,
    Entry.__table__,
)
SUBSCRIPTION = Subscription.__table__
PLAIN_JOURNAL = sa.text(
    "INSERT INTO ledger_journal (idempotency_key, content_hash, kind, memo, reference, posted_at)"
    " VALUES (:key, 'x', 'management_fee', '', '', CURRENT_TIMESTAMP) RETURNING id"
)
PLAIN_TAKE = sa.text("UPDATE ledger_account SET balance = balance - :a WHERE id = :id RETURNING balance")
PLAIN_OWE = sa.text("UPDATE ledger_account SET balance = balance + :a WHERE id = :id RETURNING balance")


def config(url: str, options: dict, folder: str) -> dict:
    """bench_ledger's settings, with an audit key of its own (as production sets one)."""
    return _config(url, options, folder) | {"AUDIT_KEY": "bench-fees"}


def start_of(index: int) -> date:
    """The start (and anchor day) of customer `index`'s subscription: in the month before TODAY."""
    return shifted(TODAY.replace(day=1), -1, index % 28 + 1)


def top_up_of(index: int) -> Decimal:
    return SHORT_TOP_UP if index % SHORT_EVERY == 0 else TOP_UP


def due_periods(index: int) -> list[str]:
    """The periods of customer `index` the run charges (as the fee run works them out)."""
    start = start_of(index)
    return [period.key for period in periods(start, months=1, until=TODAY, anchor_day=start.day)]


@contextlib.contextmanager
def autovacuum_analyze(engine: sa.Engine):
    """While the block runs, where the server's autovacuum is off (this machine's PostgreSQL is
    set so), the ANALYZE autovacuum would run: a table is analyzed once more of its rows changed
    since its last analysis than 50 + 10 % of it (autovacuum_analyze_threshold and
    _scale_factor), looked at every 5 s. Without it the tables a run fills keep the statistics
    of when they were empty, and each foreign-key check and trigger lookup on them reads them
    whole: every run grows quadratically, ours and the plain one alike."""
    if engine.dialect.name != "postgresql" or autovacuum_on(engine):
        yield
        return
    stop = threading.Event()

    def watch() -> None:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            while not stop.wait(5):
                due = connection.exec_driver_sql(
                    "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
                    " WHERE s.schemaname = current_schema()"
                    " AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)"
                ).scalars()
                for table in list(due):
                    connection.exec_driver_sql(f'ANALYZE "{table}"')

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


def autovacuum_on(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SHOW autovacuum").scalar() == "on"


def set_up(url: str, options: dict, folder: str, count: int, *, receivables: bool = False) -> list[tuple]:
    """The database with `count` customers, their top-ups and subscriptions (`receivables`: the
    short customers' receivable accounts opened too, as the fee run opens them); for each
    customer (subscription id, prepaid account id, receivable account id or None)."""
    app = create_app(config(url, options, folder))
    made = []
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        # as configured in production: each posting checks its tier's low-balance threshold
        alerts.create_threshold_table([["A", 10000], ["B", 5000], ["C", 1000]])
        plan_id = plans.save_plan(PLAN, {"zh-CN": "月费", "en": "Monthly"}, {"items": [MONTHLY]}).plan_id
        bank = ledger.system_account("bank").id
        ledger.system_account("revenue_management_fee")
        db.session.commit()
        registered = datetime(2025, 1, 1)
        for offset in range(0, count, BATCH):
            indexes = range(offset, min(offset + BATCH, count))
            connection = db.session.connection()
            codes = [f"F{index:06d}" for index in indexes]
            customer_ids = _inserted(
                connection,
                CUSTOMER,
                [
                    {"code": code, "name": f"Bench {code}", "tier": "B", "status": "active",
                     "credit_flag": False, "created_at": registered}
                    for code in codes
                ],
            )  # fmt: skip
            prepaid_ids = _inserted(
                connection,
                ACCOUNT,
                [
                    {"code": f"customer:{code}:prepaid", "kind": "prepaid", "customer_id": customer,
                     "normal_side": "credit", "allow_negative": False, "balance": top_up_of(index)}
                    for index, code, customer in zip(indexes, codes, customer_ids, strict=True)
                ],
            )  # fmt: skip
            receivable_ids: list[int | None] = [None] * len(codes)
            if receivables:
                short = [at for at, index in enumerate(indexes) if index % SHORT_EVERY == 0]
                opened = _inserted(
                    connection,
                    ACCOUNT,
                    [
                        {"code": f"customer:{codes[at]}:receivable", "kind": "receivable",
                         "customer_id": customer_ids[at], "normal_side": "debit", "allow_negative": True,
                         "balance": Decimal("0.00")}
                        for at in short
                    ],
                )  # fmt: skip
                for at, account in zip(short, opened, strict=True):
                    receivable_ids[at] = account
            journal_ids = _inserted(
                connection,
                JOURNAL,
                [
                    {"idempotency_key": f"bench-top-up:{code}", "content_hash": "0" * 64, "kind": "top_up",
                     "memo": "", "reference": "", "posted_at": registered}
                    for code in codes
                ],
            )  # fmt: skip
            connection.execute(
                sa.insert(ENTRY),
                [
                    row
                    for index, journal, prepaid in zip(indexes, journal_ids, prepaid_ids, strict=True)
                    for row in (
                        {"journal_id": journal, "account_id": bank, "amount": top_up_of(index),
                         "balance_after": None, "posted_at": registered},
                        {"journal_id": journal, "account_id": prepaid, "amount": -top_up_of(index),
                         "balance_after": top_up_of(index), "posted_at": registered},
                    )
                ],
            )  # fmt: skip
            subscription_ids = _inserted(
                connection,
                SUBSCRIPTION,
                [
                    {"customer_id": customer, "plan_id": plan_id, "start_date": start_of(index),
                     "end_date": None, "anchor_day": start_of(index).day, "overrides": {},
                     "status": "active", "created_at": registered}
                    for index, customer in zip(indexes, customer_ids, strict=True)
                ],
            )  # fmt: skip
            db.session.commit()
            made += zip(subscription_ids, prepaid_ids, receivable_ids, strict=True)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))  # as autovacuum would have by the next run
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return made


def _inserted(connection: sa.Connection, table: sa.Table, rows: list[dict]) -> list[int]:
    """The ids of `rows`, inserted in as few statements as the driver allows, in their order."""
    if not rows:
        return []
    insert = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(connection.execute(insert, rows).scalars())


def counts() -> dict[str, int]:
    return {
        table: db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() for table in COUNTED
    }


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise OSError(f"no {field} in /proc/self/status")


def memory_mark() -> float:
    """The resident set now, in MB, its peak reset to it (Linux: /proc/self/clear_refs), so
    that `memory_peak` tells the most the process held since. Without /proc: the peak so far
    (ru_maxrss), which hides what stays below an earlier peak."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return _status_mb("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_peak() -> float:
    """The process's peak resident set (since `memory_mark`), in MB."""
    try:
        return _status_mb("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def run_child(arguments: dict) -> dict:
    """In a fresh process: the fee run and its rerun on the database set up for it."""
    app = create_app(config(arguments["url"], arguments["options"], arguments["folder"]))
    today = date.fromisoformat(arguments["today"])
    sent = 0

    def count_one(*_args) -> None:
        nonlocal sent
        sent += 1

    with app.app_context():
        before_rows = counts()
        db.session.commit()
        sa.event.listen(db.engine, "before_cursor_execute", count_one)
        gc.collect()
        before_mb = memory_mark()
        with autovacuum_analyze(db.engine):
            cpu, start = time.process_time(), time.perf_counter()
            report = fee_run.run_fees(today)
            first = time.perf_counter() - start
        cpu = time.process_time() - cpu
        after_mb = memory_peak()
        statements = sent
        sa.event.remove(db.engine, "before_cursor_execute", count_one)
        between = counts()
        db.session.commit()
        with autovacuum_analyze(db.engine):
            start = time.perf_counter()
            again = fee_run.run_fees(today)
            rerun = time.perf_counter() - start
        after = counts()
        db.session.remove()
        db.engine.dispose()
    return {
        "seconds": first,
        "cpu": cpu,
        "statements": statements,
        "memory_mb": after_mb - before_mb,
        "peak_mb": after_mb,
        "posted": report.posted,
        "short": report.short,
        "failed": report.failed,
        "subscriptions": report.subscriptions,
        "written": {table: between[table] - before_rows[table] for table in COUNTED},
        "rerun_seconds": rerun,
        "rerun_posted": again.posted + again.short + again.failed,
        "rerun_rows": {table: after[table] - between[table] for table in COUNTED},
    }


def in_process(url: str, options: dict, folder: str) -> dict:
    """`run_child` in a process of its own (its peak memory its own, not the setup's)."""
    arguments = {"url": url, "options": options, "folder": folder, "today": TODAY.isoformat()}
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(arguments)],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the fee run's process failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def plain(url: str, options: dict, folder: str, made: list[tuple]) -> tuple[float, int]:
    """The journals the fee run posts, written with plain SQL, a chunk of subscriptions a
    transaction: the journal, its entries (the receivable too when the balance is short), the
    balances moved and the audit entry with its head. (seconds, journals)."""
    app = create_app(config(url, options, folder))
    with app.app_context():
        revenue = db.session.execute(
            sa.text("SELECT id FROM ledger_account WHERE code = 'system:revenue_management_fee'")
        ).scalar_one()
        cents = db.engine.dialect.name == "sqlite"

        def money(value: Decimal):
            return int(value * 100) if cents else value

        journals = 0
        with autovacuum_analyze(db.engine):
            start = time.perf_counter()
            for offset in range(0, len(made), fee_run.CHUNK):
                for index in range(offset, min(offset + fee_run.CHUNK, len(made))):
                    subscription, prepaid, receivable = made[index]
                    balance = top_up_of(index)
                    for period in due_periods(index):
                        covered = min(FEE, balance)
                        balance -= covered
                        journal = db.session.execute(
                            PLAIN_JOURNAL,
                            {"key": f"plain:{subscription}:monthly:{period}"},
                        ).scalar_one()
                        lines = []
                        if covered:
                            after = db.session.execute(
                                PLAIN_TAKE,
                                {"a": money(covered), "id": prepaid},
                            ).scalar_one()
                            lines.append((prepaid, money(covered), after))
                        if covered < FEE:
                            after = db.session.execute(
                                PLAIN_OWE,
                                {"a": money(FEE - covered), "id": receivable},
                            ).scalar_one()
                            lines.append((receivable, money(FEE - covered), after))
                        lines.append((revenue, -money(FEE), None))
                        values = ", ".join(
                            f"(:j, :account{n}, :amount{n}, :after{n}, CURRENT_TIMESTAMP)"
                            for n in range(len(lines))
                        )
                        parameters = {"j": journal}
                        for n, (account, amount, after) in enumerate(lines):
                            parameters |= {f"account{n}": account, f"amount{n}": amount, f"after{n}": after}
                        db.session.execute(
                            sa.text(
                                "INSERT INTO ledger_entry (journal_id, account_id, amount, balance_after,"
                                f" posted_at) VALUES {values}"
                            ),
                            parameters,
                        )
                        _plain_audit_entry(journal)
                        journals += 1
                db.session.commit()
            took = time.perf_counter() - start
        db.session.remove()
        db.engine.dispose()
    return took, journals


def verdict(met: bool) -> str:
    return "PASS" if met else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--customers", type=int, default=100_000, help="customers, one subscription each (default 100000)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the fee run's own process
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(run_child(json.loads(arguments.child))))
        return 0
    count = arguments.customers
    if count < 1:
        parser.error("--customers must be at least 1")
    small = MEMORY_SIZE if count > MEMORY_SIZE else max(count // 10, 1)
    url = os.environ.get("FORMFLOW_BENCH_DATABASE_URL")
    began = time.perf_counter()
    charges = sum(len(due_periods(index)) for index in range(count))
    with database(url) as (database_url, options), tempfile.TemporaryDirectory() as folder:
        kind = sa.make_url(database_url).get_backend_name()
        print(
            f"fees on {kind}: {count} customers on a monthly plan of {FEE}, one in {SHORT_EVERY} short of it;"
            f" run date {TODAY}: {charges} charges ({charges / count:.2f} a customer)",
            flush=True,
        )
        start = time.perf_counter()
        set_up(database_url, options, folder, count)
        print(f"   setup (bulk, not compared) {time.perf_counter() - start:8.1f} s", flush=True)
        full = in_process(database_url, options, folder)
    mine = charges / full["seconds"]
    posted = full["posted"] + full["short"]
    print(
        f"   fee run {full['seconds']:8.1f} s {mine:8.0f} charges/s   (posted {full['posted']}, short"
        f" {full['short']} with {full['written']['billing_invoice']} invoices, failed {full['failed']});"
        f" {full['statements'] / max(posted, 1):.1f} statements a charge;"
        f" CPU of its process {100 * full['cpu'] / full['seconds']:.0f}%",
        flush=True,
    )
    if posted != charges or full["failed"]:
        print(f"   !! the run charged {posted} of the {charges} charges due", flush=True)
    with database(url) as (database_url, options), tempfile.TemporaryDirectory() as folder:
        made = set_up(database_url, options, folder, count, receivables=True)
        took, journals = plain(database_url, options, folder, made)
    theirs = journals / took
    ratio = mine / theirs
    print(
        f"   plain SQL, same journals {took:8.1f} s {theirs:8.0f} journals/s   ours/plain {ratio:4.2f}"
        f" (target >= {TARGET_PLAIN_RATIO}: {verdict(ratio >= TARGET_PLAIN_RATIO)})",
        flush=True,
    )
    share = full["rerun_seconds"] / full["seconds"]
    rows = sum(full["rerun_rows"].values())
    rerun_ok = share <= TARGET_RERUN_SHARE and rows == 0 and full["rerun_posted"] == 0
    print(
        f"   rerun   {full['rerun_seconds']:8.1f} s = {100 * share:.1f}% of the first"
        f" (target <= {100 * TARGET_RERUN_SHARE:.0f}%: {verdict(share <= TARGET_RERUN_SHARE)}),"
        f" {rows} rows written (target 0: {verdict(rows == 0 and full['rerun_posted'] == 0)})",
        flush=True,
    )
    with database(url) as (database_url, options), tempfile.TemporaryDirectory() as folder:
        set_up(database_url, options, folder, small)
        few = in_process(database_url, options, folder)
    growth = full["memory_mb"] - few["memory_mb"]
    memory_ok = abs(growth) <= TARGET_MEMORY_MB
    print(
        f"   memory the fee run adds: {small} customers {few['memory_mb']:+7.1f} MB"
        f" (peak {few['peak_mb']:.0f} MB, {few['seconds']:.1f} s), {count} customers"
        f" {full['memory_mb']:+7.1f} MB (peak {full['peak_mb']:.0f} MB): {growth:+.1f} MB"
        f" (target within {TARGET_MEMORY_MB} MB: {verdict(memory_ok)})",
        flush=True,
    )
    ok = ratio >= TARGET_PLAIN_RATIO and rerun_ok and memory_ok
    load = os.getloadavg()[0]
    print(f"   ({time.perf_counter() - began:.0f} s in all; {os.cpu_count()} cores, load {load:.1f})")
    print("RESULT", "OK" if ok else "MISSED", "(a report: the exit status says only whether it ran)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
