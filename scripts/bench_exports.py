"""`make bench` (exports part): a customer's ledger entries exported to CSV and XLSX through the
real path (the "entries" list of formflow.tabular: its filters, its chunked query, the CSV
writer, openpyxl's write-only workbook through a temporary file, the chunks a response sends),
for 10,000 entries against 100,000 in the same run.

Reported for each size and format: rows per second, and the peak of Python memory the export
allocates (tracemalloc, reset at its start). Target: flat memory — the 100,000-row peak under
3x the 10,000-row peak (reading everything at once would make it ~10x). Each size uses a
database of its own (a temporary SQLite file, or a fresh PostgreSQL schema dropped afterwards:
FORMFLOW_BENCH_DATABASE_URL=…), its entries written in bulk (not timed). The script exits 0
whether the target is met or not (it is a report), non-zero on an error."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from decimal import Decimal

from bench_ledger import _config, database
from flask_migrate import upgrade

from formflow import tabular
from formflow.app import create_app
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.ledger.models import Entry, Journal

TARGET_GROWTH = 3.0
SMALL, LARGE = 10_000, 100_000
BATCH = 5000
CODE = "EXP001"


def set_up(url: str, options: dict, folder: str, count: int):
    """An app on a fresh database holding one customer with `count` prepaid entries."""
    app = create_app(_config(url, options, folder))
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        customer = customers.create(CODE, "导出基准客户", "B")
        account = ledger.customer_account(customer, "prepaid")
        db.session.commit()
        start, balance = datetime(2025, 1, 1), Decimal("0.00")
        for offset in range(0, count, BATCH):
            journals, entries = [], []
            for index in range(offset, min(offset + BATCH, count)):
                amount = Decimal(index % 997 + 1) + Decimal("0.25")
                balance += amount
                moment = start + timedelta(minutes=index)
                journals.append(
                    {"id": index + 1, "idempotency_key": f"bench-{index}", "content_hash": "x",
                     "kind": "top_up", "memo": f"充值 {index}", "reference": f"REF-{index}",
                     "posted_at": moment}
                )  # fmt: skip
                entries.append(
                    {"journal_id": index + 1, "account_id": account.id, "amount": -amount,
                     "balance_after": balance, "posted_at": moment}
                )  # fmt: skip
            db.session.execute(Journal.__table__.insert(), journals)
            db.session.execute(Entry.__table__.insert(), entries)
            db.session.commit()
    return app


def export(app, format: str) -> dict:
    """One export of the customer's entries, its chunks consumed as a response would send them:
    timed once as is, then once more under tracemalloc for its peak (tracing slows it down)."""
    with app.test_request_context():
        entry = tabular.get("entries")
        filters = entry.filters({"customer": CODE}, None)
        began = time.perf_counter()
        size = sum(len(chunk) for chunk in tabular.chunks(entry.table(filters), format))
        seconds = time.perf_counter() - began
        db.session.rollback()
        tracemalloc.start()
        tracemalloc.reset_peak()
        for _chunk in tabular.chunks(entry.table(filters), format):
            pass
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows = entry.count(filters)
        db.session.rollback()
    return {"rows": rows, "seconds": seconds, "peak_mb": peak / 2**20, "bytes": size}


def warm_up(app) -> None:
    """Imports and caches (openpyxl, the translations) loaded before anything is measured."""
    with app.test_request_context():
        entry = tabular.get("entries")
        for format in tabular.FORMATS:
            table = entry.table(entry.filters({"customer": CODE}, None))
            table.rows = (row for _n, row in zip(range(100), table.rows, strict=False))
            for _chunk in tabular.chunks(table, format):
                pass
        db.session.rollback()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=SMALL)
    parser.add_argument("--large", type=int, default=LARGE)
    options = parser.parse_args()
    url = os.environ.get("FORMFLOW_BENCH_DATABASE_URL")
    print(f"== exports: {options.small:,} vs {options.large:,} ledger entries of one customer "
          f"({'PostgreSQL' if url else 'SQLite'})", flush=True)  # fmt: skip
    found: dict[tuple[int, str], dict] = {}
    for count in (options.small, options.large):
        with database(url) as (database_url, engine_options), tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            app = set_up(database_url, engine_options, folder, count)
            print(
                f"   set up {count:,} entries in {time.perf_counter() - began:.1f} s (not compared)",
                flush=True,
            )
            warm_up(app)
            for format in tabular.FORMATS:
                result = found[count, format] = export(app, format)
                assert result["rows"] == count, result
                print(
                    f"   {format:4} {count:>8,} rows  {count / result['seconds']:>9,.0f} rows/s"
                    f"  peak {result['peak_mb']:7.1f} MB  ({result['bytes'] / 2**20:.1f} MB file,"
                    f" {result['seconds']:.1f} s)",
                    flush=True,
                )
            with app.app_context():
                db.engine.dispose()
    ok = True
    for format in tabular.FORMATS:
        small, large = found[options.small, format], found[options.large, format]
        growth = large["peak_mb"] / max(small["peak_mb"], 0.01)
        flat = growth < TARGET_GROWTH
        ok = ok and flat
        print(
            f"   {format:4} memory: {options.large:,} rows peak {growth:.2f}x the {options.small:,} rows' "
            f"(target < {TARGET_GROWTH:.0f}x, flat): {'PASS' if flat else 'FAIL'}",
            flush=True,
        )
    print("RESULT", "PASS" if ok else "FAIL", "(a report: the exit status says only whether it ran)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
