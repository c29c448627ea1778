"""Postings at the same moment, with real commits on the test database (SQLite or
PostgreSQL): 20 threads on one customer, half of them replays of the same keys, give the
exact sum once each; usages that together exceed the balance are partly refused and the
balance never goes below zero."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import balances, verify
from formflow.ledger import services as ledger
from formflow.ledger.models import Entry, Journal

pytestmark = pytest.mark.live_db
THREADS = 20


def _run_together(app, work, count: int) -> list[str]:
    start = threading.Barrier(count)
    outcomes: list[str] = []

    def run(index: int) -> None:
        with app.app_context():
            try:
                start.wait(timeout=30)
                outcomes.append(work(index))
                db.session.commit()
            except Invalid:
                db.session.rollback()
                outcomes.append("refused")
            except BaseException as error:  # anything else is the bug
                db.session.rollback()
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_twenty_threads_half_replaying_give_the_exact_sum_once_each(live_app):
    with live_app.app_context():
        customers.create("T001", "Threads", "B")
        db.session.commit()

    def top_up(index: int) -> str:
        customer = customers.get_by_code("T001")
        key = f"top-up-{index % (THREADS // 2)}"  # threads i and i+10 post the same key
        amount = Decimal(index % (THREADS // 2) + 1) + Decimal("0.01")
        return str(ledger.post_for_customer(customer, "top_up", amount, key=key).id)

    outcomes = _run_together(live_app, top_up, THREADS)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    with live_app.app_context():
        customer = customers.get_by_code("T001")
        expected = sum(Decimal(i + 1) + Decimal("0.01") for i in range(THREADS // 2))
        assert balances.balances(customer)["prepaid"] == expected
        assert db.session.execute(sa.select(sa.func.count(Journal.id))).scalar_one() == THREADS // 2
        assert len(set(outcomes)) == THREADS // 2  # each replay got its twin's journal
        assert verify.verify().ok


def test_usages_beyond_the_balance_are_refused_and_it_never_goes_below_zero(live_app):
    with live_app.app_context():
        customer = customers.create("T002", "Threads", "B")
        ledger.post_for_customer(customer, "top_up", Decimal("100.00"), key="seed")
        db.session.commit()

    def use(index: int) -> str:
        customer = customers.get_by_code("T002")
        ledger.post_for_customer(customer, "usage", Decimal("15.00"), key=f"use-{index}")
        return "posted"

    outcomes = _run_together(live_app, use, THREADS)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes.count("posted") == 6 and outcomes.count("refused") == THREADS - 6
    with live_app.app_context():
        customer = customers.get_by_code("T002")
        assert balances.balances(customer)["prepaid"] == Decimal("10.00")
        prepaid = ledger.customer_account(customer, "prepaid")
        afters = (
            db.session.execute(
                sa.select(Entry.balance_after).where(Entry.account_id == prepaid.id).order_by(Entry.id)
            )
            .scalars()
            .all()
        )
        assert min(afters) >= 0 and afters[-1] == Decimal("10.00")
        assert verify.verify().ok


def test_the_ledger_verify_command_exits_by_what_it_finds(live_app):
    runner = live_app.test_cli_runner()
    with live_app.app_context():
        customer = customers.create("T003", "Verify", "A")
        ledger.post_for_customer(customer, "top_up", Decimal("12.34"), key="v")
        db.session.commit()
    result = runner.invoke(args=["formflow", "ledger", "verify"])
    assert result.exit_code == 0 and result.output.startswith("OK: 1 journals"), result.output
    with live_app.app_context():
        db.session.execute(
            sa.text("UPDATE ledger_account SET balance = balance + 1 WHERE code = 'customer:T003:prepaid'")
        )
        db.session.commit()
    result = runner.invoke(args=["formflow", "ledger", "verify"])
    assert result.exit_code == 1 and "FAIL: account customer:T003:prepaid" in result.output
