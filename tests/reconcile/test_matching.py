"""Matching bank lines: by the invoice number in the memo, a registered payment's reference, a
customer code, the amount and date; each with its reason. By hand: a split over two invoices (the
parts must add up), several lines to one invoice, a write-off under the tier's limit as its own
journal; matching twice posts once; unmatching reverses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from reconcile_support import bank_account, csv_bytes, owing, row

from formflow.billing import payments
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.ledger import balances, verify
from formflow.ledger.models import Journal
from formflow.reconcile import importing, matching
from formflow.reconcile.models import BankLine, BankMatch
from formflow.tables.services import create_global_table, save_global_table

TODAY = date(2026, 12, 7)


def _statement(*rows):
    account = bank_account()
    found = importing.preview(account, "s.csv", csv_bytes(list(rows)), actor=None, today=TODAY)
    importing.confirm(found.upload, actor=None, today=TODAY)
    return {
        line.serial: line
        for line in db.session.execute(
            sa.select(BankLine).where(BankLine.bank_account_id == account.id)
        ).scalars()
    }


def _reason(line) -> str:
    with force_locale("en"):
        return matching.reason_text(matching.active_match(line).reason)


def test_automatic_matching_explains_each_match(app_ctx):
    first, (inv_ref,) = owing("C101", "甲公司", "1200.00")
    _second, (inv_code,) = owing("C102", "乙公司", "300.00")
    _third, (inv_amount,) = owing("C103", "丙公司", "777.77")
    fourth, _ = owing("C104", "丁公司", "50.00")
    registered = payments.register(
        fourth,
        "50.00",
        method="bank_transfer",
        paid_on="2026-11-09",
        key="reg-1",
        reference="BOC-99887766",
        chosen=None,
    )
    lines = _statement(
        row("2026-11-05", "S1", amount_in="1,200.00", memo=f"付管理费 {inv_ref.number}"),
        row("2026-11-06", "S2", amount_in="300.00", memo="c102 十一月"),
        row("2026-11-07", "S3", amount_in="777.77", memo="转账"),
        row("2026-11-10", "S4", amount_in="50.00", memo="BOC-99887766"),
        row("2026-11-11", "S5", amount_in="999.00", memo="不知道"),
        row("2026-11-12", "S6", amount_out="15.00", memo="手续费"),
    )
    assert matching.auto_match() == 4
    assert _reason(lines["S1"]) == f"reference {inv_ref.number} in memo"
    assert _reason(lines["S2"]) == "customer code C102 in memo"
    assert inv_amount.number in _reason(lines["S3"]) and "777.77" in _reason(lines["S3"])
    assert _reason(lines["S4"]) == "payment reference BOC-99887766 in memo"
    assert lines["S5"].status == "unmatched" and lines["S6"].status == "unmatched"
    assert (inv_ref.status, inv_code.status, inv_amount.status) == ("paid", "paid", "paid")
    link = matching.active_match(lines["S4"])
    assert link.posted is False and link.payment_id == registered.id  # confirmed, not posted again
    assert balances.balances(first)["receivable"] == Decimal("0.00")
    assert verify.verify().ok
    assert matching.auto_match() == 0  # nothing left that fits: nothing posted twice


def test_two_invoices_of_the_amount_are_left_for_a_person(app_ctx):
    owing("C201", "甲", "500.00")
    owing("C202", "乙", "500.00")
    lines = _statement(row("2026-11-05", "S1", amount_in="500.00", memo="转账"))
    assert matching.auto_match() == 0
    assert lines["S1"].status == "unmatched"
    assert len(matching.suggestions(lines["S1"])) == 2


def test_a_line_split_over_two_invoices_must_add_up(app_ctx):
    customer, (a, b) = owing("C301", "拆分公司", "600.00", "400.00")
    lines = _statement(row("2026-11-05", "S1", amount_in="1,000.00", memo="两张单"))
    with pytest.raises(Invalid) as refused:
        matching.match_invoices(
            lines["S1"], [matching.Part(a.number, "600"), matching.Part(b.number, "300")], actor=None
        )
    assert refused.value.errors[0]["pointer"] == "/parts"
    assert "900.00" in refused.value.errors[0]["message"] and "1,000.00" in refused.value.errors[0]["message"]
    assert lines["S1"].status == "unmatched" and db.session.execute(sa.select(BankMatch)).first() is None
    match = matching.match_invoices(
        lines["S1"], [matching.Part(a.number, "600"), matching.Part(b.number, "400")], actor=None
    )
    assert (a.status, b.status) == ("paid", "paid")
    assert sorted(allocation.amount for allocation in match.payment.allocations) == [
        Decimal("400"),
        Decimal("600"),
    ]
    assert balances.balances(customer)["receivable"] == Decimal("0.00")


def test_several_lines_pay_one_invoice(app_ctx):
    _customer, (invoice,) = owing("C401", "分次公司", "1000.00")
    lines = _statement(
        row("2026-11-05", "S1", amount_in="400.00"), row("2026-11-06", "S2", amount_in="600.00")
    )
    matching.match_invoices(lines["S1"], [matching.Part(invoice.number, "400")], actor=None)
    assert invoice.status == "partially_paid"
    matching.match_invoices(lines["S2"], [matching.Part(invoice.number, "600")], actor=None)
    assert invoice.status == "paid" and invoice.paid == Decimal("1000.00")


def test_matching_twice_posts_once_and_unmatching_reverses(app_ctx):
    customer, (invoice,) = owing("C501", "撤销公司", "800.00")
    lines = _statement(row("2026-11-05", "S1", amount_in="800.00", memo=invoice.number))
    matching.match_invoices(lines["S1"], [matching.Part(invoice.number, "800")], actor=None)
    journals = db.session.execute(sa.select(sa.func.count(Journal.id))).scalar_one()
    with pytest.raises(Conflict):
        matching.match_invoices(lines["S1"], [matching.Part(invoice.number, "800")], actor=None)
    assert db.session.execute(sa.select(sa.func.count(Journal.id))).scalar_one() == journals
    matching.unmatch(lines["S1"], actor=None)
    assert lines["S1"].status == "unmatched" and invoice.status == "issued" and invoice.paid == 0
    assert balances.balances(customer)["receivable"] == Decimal("800.00")
    reversal = db.session.execute(sa.select(Journal).where(Journal.kind == "reversal")).scalar_one()
    assert reversal.reverses_id is not None
    assert matching.auto_match() == 1  # matched again: a new payment key, posted once more
    assert invoice.status == "paid" and verify.verify().ok


def test_a_small_shortfall_is_written_off_under_the_tiers_limit(app_ctx):
    create_global_table(
        matching.WRITE_OFF_TABLE,
        {"zh-CN": "核销限额", "en": "Write-off limits"},
        [{"name": "tier", "type": "text"}, {"name": matching.WRITE_OFF_COLUMN, "type": "money"}],
        "tier",
    )
    save_global_table(matching.WRITE_OFF_TABLE, [["B", 5]], expected_number=1)
    customer, (small, large) = owing("C601", "核销公司", "1000.00", "2000.00")
    lines = _statement(
        row("2026-11-05", "S1", amount_in="996.50", memo=small.number),
        row("2026-11-06", "S2", amount_in="1990.00", memo=large.number),
    )
    assert matching.auto_match() == 2
    first = matching.active_match(lines["S1"])
    assert first.write_off == Decimal("3.50") and small.status == "paid"
    journal = db.session.get(Journal, first.write_off_journal_id)
    assert journal.kind == "write_off" and {e.account.code: e.amount for e in journal.entries} == {
        "system:write_offs": Decimal("3.50"),
        "customer:C601:receivable": Decimal("-3.50"),
    }
    assert matching.active_match(lines["S2"]).write_off == 0 and large.outstanding == Decimal("10.00")
    matching.unmatch(lines["S1"], actor=None)
    assert small.status == "issued" and small.outstanding == Decimal("1000.00")
    assert balances.balances(customer)["receivable"] == Decimal("1010.00") and verify.verify().ok


def test_money_out_is_explained_as_a_bank_charge(app_ctx):
    lines = _statement(row("2026-11-05", "S1", amount_out="15.00", memo="手续费"))
    with pytest.raises(Invalid) as refused:
        matching.explain(lines["S1"], "", "bank_charges", actor=None)
    assert refused.value.errors[0]["pointer"] == "/note"
    matching.explain(lines["S1"], "账户管理费", "bank_charges", actor=None)
    journal = db.session.get(Journal, lines["S1"].explanation_journal_id)
    assert {e.account.code: e.amount for e in journal.entries} == {
        "system:bank_charges": Decimal("15.00"),
        "system:bank": Decimal("-15.00"),
    }
    assert journal.value_date == date(2026, 11, 5)
