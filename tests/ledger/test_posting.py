"""`ledger.post` and the customer postings: double entry, exact balances, idempotency by key,
shortfalls refused with nothing written, reversals, and a database that refuses edits."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from formflow.customers import services as customers
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.ledger import balances
from formflow.ledger import services as ledger
from formflow.ledger.models import Entry, Journal
from formflow.ledger.verify import verify as verify_ledger


@pytest.fixture
def customer(app_ctx):
    return customers.create("L001", "Ledger customer", "B")


def test_a_top_up_debits_the_bank_and_credits_the_customers_prepaid(customer):
    journal = ledger.post_for_customer(customer, "top_up", Decimal("100.10"), key="t1")
    assert sorted((e.account.code, e.amount) for e in journal.entries) == [
        ("customer:L001:prepaid", Decimal("-100.10")),
        ("system:bank", Decimal("100.10")),
    ]
    assert sum(e.amount for e in journal.entries) == 0
    assert balances.balances(customer) == {"prepaid": Decimal("100.10"), "deposit": 0, "receivable": 0}
    assert balances.account_balance(ledger.system_account("bank")) == Decimal("100.10")
    prepaid = next(e for e in journal.entries if e.account.kind == "prepaid")
    assert prepaid.balance_after == Decimal("100.10")


def test_amounts_stay_exact_over_many_postings(customer):
    for index in range(30):
        ledger.post_for_customer(customer, "top_up", Decimal("0.10"), key=f"dime-{index}")
    ledger.post_for_customer(customer, "usage", Decimal("0.30"), key="use")
    assert balances.balances(customer)["prepaid"] == Decimal("2.70")
    assert balances.account_balance(ledger.customer_account(customer, "prepaid")) == Decimal("2.70")


def test_the_same_key_gives_the_first_journal_back_and_other_content_is_a_conflict(customer):
    first = ledger.post_for_customer(customer, "top_up", Decimal("50"), key="again")
    assert ledger.post_for_customer(customer, "top_up", Decimal("50.00"), key="again").id == first.id
    with pytest.raises(Conflict):
        ledger.post_for_customer(customer, "top_up", Decimal("51"), key="again")
    assert balances.balances(customer)["prepaid"] == Decimal("50.00")


def test_a_usage_above_the_balance_is_refused_with_the_shortfall_and_nothing_written(customer, en):
    ledger.post_for_customer(customer, "top_up", Decimal("80"), key="t")
    before = db.session.execute(sa.select(sa.func.count(Journal.id))).scalar_one()
    with pytest.raises(Invalid) as refused:
        ledger.post_for_customer(customer, "usage", Decimal("100"), key="u")
    assert refused.value.errors == [
        {"pointer": "/amount", "message": "The prepaid balance is 80.00, 20.00 short of 100.00."}
    ]
    assert db.session.execute(sa.select(sa.func.count(Journal.id))).scalar_one() == before
    assert balances.balances(customer)["prepaid"] == Decimal("80.00")


def test_a_shortfall_may_go_to_the_receivable(customer):
    ledger.post_for_customer(customer, "top_up", Decimal("80"), key="t")
    journal = ledger.post_for_customer(customer, "deduction", Decimal("100"), key="d", short="receivable")
    assert balances.balances(customer) == {
        "prepaid": Decimal("0.00"),
        "deposit": 0,
        "receivable": Decimal("20.00"),
    }
    assert sum(e.amount for e in journal.entries) == 0


def test_a_split_posting_sent_again_gives_the_first_journal_back_though_the_balance_moved(customer):
    ledger.post_for_customer(customer, "top_up", Decimal("80"), key="t")
    first = ledger.post_for_customer(
        customer, "deduction", Decimal("100"), key="d", short="receivable", memo="m"
    )
    assert sorted(line.amount for line in first.posted_lines) == [
        Decimal("-100"),
        Decimal("20"),
        Decimal("80"),
    ]
    ledger.post_for_customer(customer, "top_up", Decimal("500"), key="t2")  # now it would all fit
    again = ledger.post_for_customer(
        customer, "deduction", Decimal("100"), key="d", short="receivable", memo="m"
    )
    assert again.id == first.id and again.replayed
    assert balances.balances(customer) == {
        "prepaid": Decimal("500.00"),
        "deposit": 0,
        "receivable": Decimal("20.00"),
    }
    for other in ({"memo": "other"}, {"memo": "m", "amount": Decimal("90")}):
        with pytest.raises(Conflict):
            ledger.post_for_customer(
                customer, "deduction", other.get("amount", Decimal("100")), key="d", short="receivable",
                memo=other["memo"],
            )  # fmt: skip
    assert balances.balances(customer)["prepaid"] == Decimal("500.00")  # nothing moved


def test_a_reversal_undoes_a_journal_once_and_names_it(customer):
    top_up = ledger.post_for_customer(customer, "top_up", Decimal("30"), key="t")
    reversal = ledger.reverse(top_up, key="r")
    assert reversal.reverses_id == top_up.id and reversal.kind == "reversal"
    assert balances.balances(customer)["prepaid"] == Decimal("0.00")
    assert ledger.reverse(top_up, key="r").id == reversal.id  # a replay
    with pytest.raises(Conflict):
        ledger.reverse(top_up, key="r2")


@pytest.mark.parametrize(
    "amount",
    [Decimal("0"), Decimal("-1"), Decimal("1.001"), Decimal("NaN"), Decimal("Infinity"), Decimal("1E+16")],
)
def test_amounts_that_are_not_money_are_refused(customer, amount):
    prepaid, bank = ledger.customer_account(customer, "prepaid"), ledger.system_account("bank")
    with pytest.raises(Invalid):
        ledger.post("top_up", [ledger.Line(bank, amount), ledger.Line(prepaid, -amount)], key="bad")


def test_lines_that_do_not_sum_to_zero_are_refused(customer, en):
    prepaid, bank = ledger.customer_account(customer, "prepaid"), ledger.system_account("bank")
    with pytest.raises(Invalid, match="sum to zero"):
        ledger.post("top_up", [ledger.Line(bank, Decimal("1")), ledger.Line(prepaid, Decimal("-2"))], key="k")


EDITS = [
    "UPDATE ledger_entry SET amount = 0",
    "DELETE FROM ledger_entry",
    "UPDATE ledger_journal SET memo = 'x'",
    "DELETE FROM ledger_journal",
    "UPDATE ledger_account SET kind = 'bank'",
    "DELETE FROM ledger_account",
]


@pytest.mark.parametrize("statement", EDITS)
def test_the_database_refuses_to_change_the_ledger(customer, statement):
    ledger.post_for_customer(customer, "top_up", Decimal("5"), key="t")
    db.session.flush()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text(statement))
    assert db.session.execute(sa.select(sa.func.count(Entry.id))).scalar_one() == 2


def test_ledger_verify_passes_on_postings_and_names_a_broken_balance(customer):
    ledger.post_for_customer(customer, "top_up", Decimal("40"), key="t")
    ledger.post_for_customer(customer, "usage", Decimal("15.50"), key="u")
    db.session.flush()
    from formflow.ledger.verify import verify

    assert verify().ok
    prepaid = ledger.customer_account(customer, "prepaid")
    db.session.execute(
        sa.text("UPDATE ledger_account SET balance = balance + 1 WHERE id = :id"), {"id": prepaid.id}
    )
    result = verify()
    assert not result.ok and result.problem.startswith("account customer:L001:prepaid: balance")


# --- issue 13: fewer statements per posting, the same guarantees -------------------------------


def test_a_replay_after_the_balance_fell_gives_the_first_journal_not_a_shortfall(customer):
    ledger.post_for_customer(customer, "top_up", Decimal("100"), key="t")
    first = ledger.post_for_customer(customer, "usage", Decimal("80"), key="u")
    assert ledger.post_for_customer(customer, "usage", Decimal("80"), key="u").id == first.id  # 20 left
    with pytest.raises(Conflict):
        ledger.post_for_customer(customer, "usage", Decimal("81"), key="u")
    assert balances.balances(customer)["prepaid"] == Decimal("20.00")
    assert verify_ledger().ok


def test_a_replay_gives_back_the_balance_it_moved_before_finding_the_key(customer):
    ledger.post_for_customer(customer, "top_up", Decimal("100"), key="t")
    first = ledger.post_for_customer(customer, "usage", Decimal("30"), key="u")
    again = ledger.post_for_customer(customer, "usage", Decimal("30"), key="u")
    assert again.id == first.id and again.replayed
    assert balances.balances(customer)["prepaid"] == Decimal("70.00")
    prepaid = ledger.customer_account(customer, "prepaid")
    assert (
        db.session.execute(sa.select(sa.func.count(Entry.id)).where(Entry.account_id == prepaid.id)).scalar()
        == 2
    )
    assert verify_ledger().ok


def test_a_second_reversal_under_another_key_is_refused_and_moves_nothing(customer):
    top_up = ledger.post_for_customer(customer, "top_up", Decimal("30"), key="t")
    ledger.post_for_customer(customer, "top_up", Decimal("5"), key="t2")
    ledger.reverse(top_up, key="r")
    with pytest.raises(Conflict):
        ledger.reverse(top_up, key="r2")
    assert balances.balances(customer)["prepaid"] == Decimal("5.00")
    assert verify_ledger().ok


def test_a_shortfall_on_the_second_customer_account_gives_back_the_first(customer, en):
    prepaid, deposit = (
        ledger.customer_account(customer, "prepaid"),
        ledger.customer_account(customer, "deposit"),
    )
    ledger.post_for_customer(customer, "top_up", Decimal("10"), key="t")
    lines = [ledger.Line(prepaid, Decimal("4")), ledger.Line(deposit, Decimal("-4"))]  # prepaid -> deposit
    ledger.post("adjustment", lines, key="move")
    lines = [ledger.Line(prepaid, Decimal("-9")), ledger.Line(deposit, Decimal("9"))]  # deposit has 4 only
    with pytest.raises(ledger.Shortfall):
        ledger.post("adjustment", lines, key="back")
    assert balances.balances(customer) == {
        "prepaid": Decimal("6.00"),
        "deposit": Decimal("4.00"),
        "receivable": 0,
    }
    assert verify_ledger().ok


def test_a_journal_between_system_accounts_has_no_balance_after(customer):
    bank, refunds = ledger.system_account("bank"), ledger.system_account("refunds")
    journal = ledger.post(
        "adjustment", [ledger.Line(bank, Decimal("5")), ledger.Line(refunds, Decimal("-5"))], key="a"
    )
    assert [(e.amount, e.balance_after) for e in journal.entries] == [
        (Decimal("5.00"), None),
        (Decimal("-5.00"), None),
    ]
    assert balances.account_balance(bank) == Decimal("5.00")


def test_a_customer_posting_is_a_handful_of_statements(customer):
    ledger.post_for_customer(customer, "top_up", Decimal("100"), key="t")  # opens the accounts
    ledger.post_for_customer(customer, "usage", Decimal("1"), key="u1")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        ledger.post_for_customer(customer, "usage", Decimal("1"), key="u2")
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # accounts, balance, journal with entries, audit claim, audit entry with the head (SQLite:
    # the entries and the head each a statement of their own)
    assert len(statements) <= (5 if engine.dialect.name == "postgresql" else 7), [s[:70] for s in statements]
