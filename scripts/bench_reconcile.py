"""`make bench` (reconciliation part): a bank statement of many lines matched against as many open
invoices, the whole path a user pays (the CSV read through the bank's mapping, previewed and
imported, then `formflow reconcile match`'s loop: each line matched with its reason, posted as a
payment, a commit every 500 lines), against a baseline in the same run: the same payments
registered straight through billing.payments (no file, no matching) into a database set up alike.

1. lines matched per second at 10,000 lines against 10,000 open invoices, and ours against the
   baseline. Target: ours >= 0.5x (matching costs less than the postings it makes).
2. growth: the time for 10,000 lines against 10x the time for 1,000 (each against 10,000
   invoices). Target: <= 1.5 (linear; quadratic would be ~10).
3. re-import of the same file: 0 lines added.

The lines: 70% name their invoice number in the memo, 20% the customer's code (the customer has one
open invoice of exactly that amount), 10% only their amount (unique amounts), so every line
matches. Each size uses a database of its own (a temporary SQLite file, or a fresh PostgreSQL
schema: FORMFLOW_BENCH_DATABASE_URL=…; where the server's autovacuum is off, the tables the run
fills are analyzed as autovacuum would, see bench_fees). Exits 0 whether the targets are met or
not (a report)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from bench_fees import autovacuum_analyze
from bench_ledger import database
from flask_migrate import upgrade

from formflow.app import create_app
from formflow.billing import payments
from formflow.billing.models import Invoice, InvoiceItem
from formflow.customers.models import Customer
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.ledger.models import Account
from formflow.reconcile import importing, matching

TARGET_BASELINE_RATIO = 0.5
#: (seconds, lines) of finding the matches alone (no posting), per run of `ours`
FOUND: list[tuple[float, int]] = []
TARGET_GROWTH = 1.5
INVOICES = 10_000
BATCH = 5000
CHUNK = 500
ISSUED, BOOKED = date(2026, 10, 1), date(2026, 10, 20)
MAPPING = {
    "date": "交易日期",
    "amount": "金额",
    "serial": "流水号",
    "memo": "摘要",
    "counterparty": "对方户名",
}


def config(url: str, options: dict, folder: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": options,
        "SECRET_KEY": "bench",
        "INSTANCE_DIR": folder,
        "UPLOAD_FOLDER": folder,
    }


def amount_of(index: int) -> Decimal:
    """Distinct amounts: 100.00 + index cents."""
    return Decimal("100.00") + Decimal(index) / 100


def set_up(url: str, options: dict, folder: str):
    """INVOICES customers, each owing one open invoice (its receivable opened with the amount)."""
    app = create_app(config(url, options, folder))
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        ledger.system_account("bank")
        db.session.commit()
        created = datetime(2026, 1, 1)
        for offset in range(0, INVOICES, BATCH):
            indexes = range(offset, min(offset + BATCH, INVOICES))
            connection = db.session.connection()
            ids = _inserted(
                connection,
                Customer.__table__,
                [
                    {
                        "code": f"R{index:06d}",
                        "name": f"对账客户 {index}",
                        "tier": "B",
                        "status": "active",
                        "credit_flag": False,
                        "created_at": created,
                    }
                    for index in indexes
                ],
            )
            _inserted(
                connection,
                Account.__table__,
                [
                    {
                        "code": f"customer:R{index:06d}:receivable",
                        "kind": "receivable",
                        "customer_id": customer,
                        "normal_side": "debit",
                        "allow_negative": True,
                        "balance": amount_of(index),
                    }
                    for index, customer in zip(indexes, ids, strict=True)
                ],
            )
            invoice_ids = _inserted(
                connection,
                Invoice.__table__,
                [
                    {
                        "number": f"INV-2026-{index + 1:06d}",
                        "customer_id": customer,
                        "issue_date": ISSUED,
                        "due_date": date(2026, 10, 31),
                        "total": amount_of(index),
                        "paid": Decimal("0"),
                        "status": "issued",
                        "prepaid_at_issue": Decimal("0"),
                        "void_reason": "",
                        "created_at": created,
                    }
                    for index, customer in zip(indexes, ids, strict=True)
                ],
            )
            _inserted(
                connection,
                InvoiceItem.__table__,
                [
                    {
                        "invoice_id": invoice,
                        "position": 1,
                        "title": "管理费",
                        "amount": amount_of(index),
                        "period": "",
                    }
                    for index, invoice in zip(indexes, invoice_ids, strict=True)
                ],
            )
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
    return app


def _inserted(connection, table, rows) -> list[int]:
    return list(
        connection.execute(
            sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        ).scalars()
    )


def statement(lines: int) -> bytes:
    rows = ["交易日期,流水号,金额,对方户名,摘要"]
    for index in range(lines):
        kind = index % 10
        memo = (
            f"R{index:06d} 管理费"
            if kind in (7, 8)
            else ("转账" if kind == 9 else f"缴费 INV-2026-{index + 1:06d}")
        )
        rows.append(f'{BOOKED.isoformat()},BK{index:08d},"{amount_of(index):,.2f}",对账客户 {index},{memo}')
    return ("\n".join(rows) + "\n").encode("gb18030")


def ours(app, lines: int) -> tuple[float, int, int]:
    """(seconds, lines matched, lines added by re-importing the same file)."""
    content = statement(lines)
    with app.app_context():
        account = importing.save_account(None, "基本户", "ICBC", "", MAPPING, actor=None)
        db.session.commit()
        started = time.perf_counter()
        found = importing.preview(account, "statement.csv", content, actor=None)
        importing.confirm(found.upload, actor=None)
        db.session.commit()
        ids = [line.id for line in matching.unmatched_lines(incoming_only=True)]
        found_at = time.perf_counter()
        matcher = matching.Matcher.load()
        finding = sum(matcher._find(line) is not None for line in matching.lines_by_ids(ids))
        FOUND.append((time.perf_counter() - found_at, finding))
        matcher = matching.Matcher.load()
        matched = 0
        for start in range(0, len(ids), CHUNK):
            matched += matcher.run(matching.lines_by_ids(ids[start : start + CHUNK]))
            db.session.commit()
        seconds = time.perf_counter() - started - FOUND[-1][0]  # the look alone is not the user's path
        again = importing.confirm(
            importing.preview(account, "statement.csv", content, actor=None).upload, actor=None
        )
        db.session.commit()
        return seconds, matched, again.added


def baseline(app, lines: int) -> float:
    """The same payments registered straight through billing.payments, a commit every CHUNK."""
    with app.app_context():
        customers = dict(db.session.execute(sa.select(Customer.code, Customer.id)).all())
        started = time.perf_counter()
        for start in range(0, lines, CHUNK):
            for index in range(start, min(start + CHUNK, lines)):
                customer = db.session.get(Customer, customers[f"R{index:06d}"])
                chosen = [payments.Chosen(f"INV-2026-{index + 1:06d}", amount_of(index))]
                payments.register(
                    customer,
                    amount_of(index),
                    method="bank_transfer",
                    paid_on=BOOKED,
                    key=f"plain:{index}",
                    reference=f"BK{index:08d}",
                    chosen=chosen,
                )
            db.session.commit()
        return time.perf_counter() - started


def run(size: int, which: str, url: str | None):
    with tempfile.TemporaryDirectory() as folder, database(url) as (db_url, options):
        app = set_up(db_url, options, folder)
        with app.app_context(), autovacuum_analyze(db.engine):  # as a server with autovacuum on would
            result = ours(app, size) if which == "ours" else baseline(app, size)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()
    url = os.environ.get("FORMFLOW_BENCH_DATABASE_URL") or None
    where = "PostgreSQL" if url else "SQLite"
    small = max(args.lines // 10, 1)
    print(
        f"bench_reconcile on {where}: {args.lines:,} and {small:,} bank lines "
        f"against {INVOICES:,} open invoices"
    )
    big_time, big_matched, big_again = run(args.lines, "ours", url)
    find_time, found = FOUND[-1]
    small_time, small_matched, _ = run(small, "ours", url)
    plain = run(args.lines, "baseline", url)
    rate, plain_rate = big_matched / big_time, args.lines / plain
    ratio, growth = rate / plain_rate, big_time / (10 * small_time)
    print(
        f"  import + match {args.lines:,} lines: {big_time:.1f} s, "
        f"{big_matched:,} matched ({rate:,.0f} lines/s)"
    )
    print(
        f"  of which finding the matches (reasons, no posting): {found:,} lines in {find_time:.2f} s "
        f"({found / find_time:,.0f} lines/s); the rest is posting each payment"
    )
    print(f"  baseline (the same payments registered directly): {plain:.1f} s ({plain_rate:,.0f}/s)")
    print(
        f"  ours/baseline: {ratio:.2f}x (target >= {TARGET_BASELINE_RATIO}x) "
        f"{'PASS' if ratio >= TARGET_BASELINE_RATIO else 'FAIL'}"
    )
    print(
        f"  {small:,} lines: {small_time:.2f} s ({small_matched:,} matched); growth {args.lines:,} vs 10x "
        f"{small:,}: {growth:.2f} (target <= {TARGET_GROWTH}) {'PASS' if growth <= TARGET_GROWTH else 'FAIL'}"
    )
    print(
        f"  re-import of the same file: {big_again} lines added (target 0) "
        f"{'PASS' if big_again == 0 else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
