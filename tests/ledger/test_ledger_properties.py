"""Random top-ups, usages, refunds and reversals (hypothesis, stateful): the balance is always
what a plain model of the same moves says, never below zero, and `ledger verify` stays clean."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.ledger import balances
from formflow.ledger import services as ledger
from formflow.ledger.verify import verify

AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
CODES = itertools.count(1)
#: the prepaid balance each kind moves by, per unit
SIGN = {"top_up": 1, "usage": -1, "refund": -1}


class LedgerMoves(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.customer = customers.create(f"P{next(CODES):05d}", "Property", "B")
        self.expected = Decimal("0.00")
        self.posted: list[tuple] = []  # (journal, its effect on the balance)
        self.keys = itertools.count()

    def _key(self) -> str:
        return f"{self.customer.code}-{next(self.keys)}"

    @rule(kind=st.sampled_from(sorted(SIGN)), amount=AMOUNTS)
    def move(self, kind, amount):
        effect = SIGN[kind] * amount
        try:
            journal = ledger.post_for_customer(self.customer, kind, amount, key=self._key())
        except Invalid:
            assert self.expected + effect < 0  # refused only when it would go below zero
            return
        assert self.expected + effect >= 0
        self.expected += effect
        self.posted.append((journal, effect))

    @precondition(lambda self: self.posted)
    @rule(which=st.integers(min_value=0))
    def reverse(self, which):
        journal, effect = self.posted.pop(which % len(self.posted))
        try:
            ledger.reverse(journal, key=self._key())
        except Invalid:
            assert self.expected - effect < 0
            self.posted.append((journal, effect))
            return
        self.expected -= effect

    @rule(amount=AMOUNTS)
    def replay(self, amount):
        key = self._key()
        first = ledger.post_for_customer(self.customer, "top_up", amount, key=key)
        assert ledger.post_for_customer(self.customer, "top_up", amount, key=key).id == first.id
        self.expected += amount
        self.posted.append((first, amount))

    @invariant()
    def balance_matches_the_model(self):
        balance = balances.balances(self.customer)["prepaid"]
        assert balance == self.expected and balance >= 0


def test_random_moves_keep_the_ledger_consistent(app_ctx):
    run_state_machine_as_test(
        LedgerMoves, settings=settings(max_examples=15, stateful_step_count=15, deadline=None)
    )
    result = verify()
    assert result.ok, result.problem
