"""Several people matching one bank line at the same moment (real commits, on SQLite and
PostgreSQL): one match holds, the others are refused as a Conflict, the payment is posted once."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from reconcile_support import bank_account, csv_bytes, owing, row

from formflow.billing.models import Payment
from formflow.errors import Conflict
from formflow.extensions import db
from formflow.ledger.models import Journal
from formflow.reconcile import importing, matching
from formflow.reconcile.models import BankLine, BankMatch

pytestmark = pytest.mark.live_db
PEOPLE = 5


def test_one_line_matched_by_several_at_once_is_matched_and_posted_once(live_app):
    with live_app.app_context():
        _customer, (invoice,) = owing("Z101", "并发公司", "880.00")
        account = bank_account()
        content = csv_bytes([row("2026-11-05", "S1", amount_in="880.00", memo="转账")])
        importing.confirm(importing.preview(account, "z.csv", content, actor=None).upload, actor=None)
        line_id = db.session.execute(sa.select(BankLine.id)).scalar_one()
        number = invoice.number
        db.session.commit()

    start = threading.Barrier(PEOPLE)
    outcomes: list[str] = []

    def match() -> None:
        with live_app.app_context():
            try:
                start.wait(timeout=30)
                line = matching.line_by_id(line_id)
                matching.match_invoices(line, [matching.Part(number, "880")], actor=None)
                db.session.commit()
                outcomes.append("matched")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            except BaseException as error:  # anything else is the bug
                db.session.rollback()
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=match) for _ in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["conflict"] * (PEOPLE - 1) + ["matched"], outcomes
    with live_app.app_context():
        assert db.session.execute(sa.select(sa.func.count(BankMatch.id))).scalar_one() == 1
        assert db.session.execute(sa.select(sa.func.count(Payment.id))).scalar_one() == 1
        assert (
            db.session.execute(
                sa.select(sa.func.count(Journal.id)).where(Journal.kind == "payment")
            ).scalar_one()
            == 1
        )
