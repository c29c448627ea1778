"""The workflow effect `ledger.post`: a case entering a state posts for its customer inside
the action's transaction, once per case, state and round; a short balance refuses the action
with the shortfall and leaves nothing of it; the config is checked when the spec is saved."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from workflows.effects_support import CUSTOMER, new_case, publish_with, walk, world

from formflow.customers import services as customers
from formflow.effects import check_effect
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import balances
from formflow.ledger import services as ledger
from formflow.ledger.models import Journal
from formflow.records.models import Case

DEDUCT = {"effect": "ledger.post", "kind": "deduction", "amount": {"var": "data.amount"}, "memo": "扣款"}


@pytest.fixture
def people(app_ctx):
    found = world()
    ledger.post_for_customer(customers.get_by_code(CUSTOMER), "top_up", Decimal("500.00"), key="seed")
    db.session.commit()
    return found


def _journals() -> list[Journal]:
    return list(db.session.execute(sa.select(Journal).order_by(Journal.id)).scalars())


def test_entering_the_state_posts_the_deduction_with_the_case_and_its_key(people):
    publish_with({"executed": {"on_enter": [DEDUCT]}})
    case = new_case(people["staff"], {"amount": Decimal("120.50")})
    walk(case, "executed", people["staff"])
    db.session.commit()
    posted = _journals()[-1]
    assert (posted.kind, posted.case_id, posted.memo) == ("deduction", case.id, "扣款")
    assert posted.idempotency_key == f"case:{case.id}:executed:{case.state_round}:0"
    assert balances.balances(customers.get_by_code(CUSTOMER))["prepaid"] == Decimal("379.50")


def test_a_short_balance_refuses_the_action_and_nothing_of_it_remains(people, en):
    publish_with({"executed": {"on_enter": [DEDUCT]}})
    case = new_case(people["staff"], {"amount": Decimal("600")})
    case_id, journals = case.id, len(_journals())
    with pytest.raises(Invalid) as refused:
        walk(case, "executed", people["staff"])
    error = refused.value.errors[0]
    assert error["pointer"] == "/workflow/states/executed/on_enter/0/amount"
    assert "The prepaid balance is 500.00, 100.00 short of 600.00." in error["message"]
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Case, case_id).state == "draft"
    assert len(_journals()) == journals
    assert balances.balances(customers.get_by_code(CUSTOMER))["prepaid"] == Decimal("500.00")


def test_the_shortfall_may_go_to_the_receivable(people):
    publish_with({"executed": {"on_enter": [{**DEDUCT, "short": "receivable"}]}})
    walk(new_case(people["staff"], {"amount": Decimal("600")}), "executed", people["staff"])
    db.session.commit()
    found = balances.balances(customers.get_by_code(CUSTOMER))
    assert (found["prepaid"], found["receivable"]) == (Decimal("0.00"), Decimal("100.00"))


@pytest.mark.parametrize(
    ("config", "pointer"),
    [
        ({"effect": "ledger.post", "amount": 1}, "/kind"),
        ({**DEDUCT, "kind": "gift"}, "/kind"),
        ({**DEDUCT, "account": "wallet"}, "/account"),
        ({**DEDUCT, "short": "borrow"}, "/short"),
        ({**DEDUCT, "amount": {"nope": [1]}}, "/amount"),
        ({**DEDUCT, "colour": "red"}, "/colour"),
    ],
)
def test_a_wrong_config_is_refused_at_its_pointer(config, pointer, app_ctx):
    problems = check_effect(config)
    assert problems and problems[0]["pointer"] == pointer, problems
