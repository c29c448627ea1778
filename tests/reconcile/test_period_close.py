"""Closing a month: the balance assertion against the bank's closing balance (catching one missing
entry), every line matched or explained, the ledger verified; afterwards postings dated in the
month are refused (a correction goes into the open period); reopening takes a second person."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from reconcile_support import bank_account, csv_bytes, owing, row

from formflow.audit.models import AuditEntry
from formflow.auth.models import User
from formflow.billing import payments
from formflow.errors import Conflict, Forbidden, Invalid
from formflow.extensions import db
from formflow.ledger import periods
from formflow.reconcile import closing, importing, matching
from formflow.reconcile.models import BankLine

TODAY = date(2026, 12, 7)


@pytest.fixture
def november(app_ctx):
    """A statement of November: 1,000.00 in for an invoice, a 15.00 bank charge; closing 985.00."""
    customer, (invoice,) = owing("C701", "月结公司", "1000.00")
    account = bank_account()
    content = csv_bytes(
        [
            row("2026-11-05", "S1", amount_in="1,000.00", balance="1,000.00", memo=invoice.number),
            row("2026-11-06", "S2", amount_out="15.00", balance="985.00", memo="手续费"),
        ]
    )
    importing.confirm(
        importing.preview(account, "nov.csv", content, actor=None, today=TODAY).upload, actor=None
    )
    lines = {line.serial: line for line in db.session.execute(sa.select(BankLine)).scalars()}
    return customer, invoice, lines


def _people(make_user):
    return [db.session.get(User, make_user(f"closer{n}", roles=["finance"])) for n in (1, 2)]


def test_a_month_with_open_lines_or_an_unbalanced_ledger_does_not_close(november, make_user):
    _customer, _invoice, lines = november
    first, _second = _people(make_user)
    with force_locale("en"):
        result = closing.check("2026-11")
    assert not result.ok and "2 bank lines" in result.problems[0]["message"]
    matching.auto_match()
    matching.explain(lines["S2"], "手续费", "", actor=first)  # explained, but never posted
    result = closing.check("2026-11")
    assert [problem["pointer"] for problem in result.problems] == ["/balance"]
    message = result.problems[0]["message"]
    assert "1,000.00" in message and "985.00" in message and "15.00" in message  # the missing entry
    with pytest.raises(Invalid):
        closing.close("2026-11", actor=first)
    assert periods.period("2026-11") is None


def test_a_reconciled_month_closes_and_refuses_postings_dated_inside_it(november, make_user):
    customer, _invoice, lines = november
    first, second = _people(make_user)
    matching.auto_match(actor=first)
    matching.explain(lines["S2"], "手续费", "bank_charges", actor=first)
    result = closing.close("2026-11", actor=first)
    assert result.ok and result.period.status == "closed" and result.period.facts["bank_balance"] == "985.00"
    audit_actions = db.session.execute(sa.select(AuditEntry.action)).scalars().all()
    assert "ledger.period.close" in audit_actions
    with pytest.raises(Invalid) as refused:
        payments.register(customer, "10", method="bank_transfer", paid_on="2026-11-20", key="late-nov")
    assert (
        refused.value.errors[0]["pointer"] == "/value_date"
        and "2026-11" in refused.value.errors[0]["message"]
    )
    with pytest.raises(Conflict) as kept:  # the close asserted its matches
        matching.unmatch(lines["S1"], actor=first)
    assert "2026-11" in kept.value.message
    with pytest.raises(Conflict):
        closing.close("2026-11", actor=first)
    with pytest.raises(Invalid):
        periods.request_reopen("2026-11", "", actor=first)
    periods.request_reopen("2026-11", "银行更正了一笔流水", actor=first)
    with pytest.raises(Forbidden):
        periods.approve_reopen("2026-11", actor=first)
    reopened = periods.approve_reopen("2026-11", actor=second)
    assert reopened.status == "open"
    payments.register(customer, "10", method="bank_transfer", paid_on="2026-11-20", key="late-nov")
    assert "ledger.period.reopen" in db.session.execute(sa.select(AuditEntry.action)).scalars().all()


def test_the_current_month_cannot_be_closed(app_ctx, make_user):
    bank_account()
    user = db.session.get(User, make_user("closer", roles=["finance"]))
    month = periods.today().strftime("%Y-%m")
    with pytest.raises(Conflict):
        periods.close(month, facts={}, actor=user)
    with pytest.raises(Invalid):
        closing.check("2026-13")
