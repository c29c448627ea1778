"""The workflow effect `ledger.post`: when a case enters a state, post money for its customer,
inside the transition's transaction (a short balance refuses the action, and nothing of it
remains), once per case, state, round and effect (the effect's idempotency key).

    {"effect": "ledger.post", "kind": "deduction", "amount": {"var": "data.amount"},
     "account": "prepaid", "short": "receivable", "memo": "扣款"}

It registers in the effect registry (formflow.effects) on import; the app factory imports
this module. The ledger knows no workflow.

`ledger.reverse` undoes what the case posted: `{"effect": "ledger.reverse", "kind": "deduction"}`."""

from __future__ import annotations

from flask_babel import gettext as _

from formflow.effects import LOGIC_SCHEMA, EffectContext, effect
from formflow.errors import Invalid
from formflow.ledger import balances
from formflow.ledger.services import CUSTOMER_POSTINGS, post_for_customer, reverse, unreversed_journals
from formflow.money import amount as money_amount
from formflow.rules.operators import OperatorFailure, to_money

SCHEMA = {
    "required": ["kind", "amount"],
    "properties": {
        "kind": {"enum": sorted(CUSTOMER_POSTINGS)},
        "amount": LOGIC_SCHEMA,
        "account": {"enum": ["prepaid", "deposit", "receivable"]},
        "short": {"enum": ["refuse", "receivable"]},
        "memo": {"type": "string", "maxLength": 500},
    },
}


@effect("ledger.post", schema=SCHEMA, logic=("/amount",))
def ledger_post(ctx: EffectContext, config: dict) -> dict:
    """Post `amount` (JSONLogic over the case's rule context, rounded half up to the cent) of
    `kind` for the case's customer."""
    computed = ctx.value(config["amount"])
    try:
        amount = money_amount(to_money(computed))
    except OperatorFailure:
        raise Invalid(
            [{"pointer": "/amount", "message": _("The amount is not a number: %(value)s", value=computed)}]
        ) from None
    customer = ctx.case.customer
    journal = post_for_customer(
        customer,
        config["kind"],
        amount,
        key=ctx.key,
        short=config.get("short", "refuse"),
        account=config.get("account"),
        memo=config.get("memo", ""),
        case_id=ctx.case.id,
        actor=ctx.actor,
        details={"state": ctx.state, "round": ctx.case.state_round},
    )
    return {
        "journal": journal.id,
        "amount": str(amount),
        "balances": {kind: str(value) for kind, value in balances.balances(customer).items()},
    }


@effect(
    "ledger.reverse",
    schema={
        "properties": {
            "kind": {"enum": sorted(CUSTOMER_POSTINGS)},
            "memo": {"type": "string", "maxLength": 500},
        }
    },
)
def ledger_reverse(ctx: EffectContext, config: dict) -> dict:
    """Reverse what this case posted (of `kind`, else all of it) and is not reversed yet: a
    dispute upheld for the customer gives the deduction back."""
    reversed_ids = []
    for journal in unreversed_journals(ctx.case.id, config.get("kind")):
        reversal = reverse(
            journal, key=f"{ctx.key}:{journal.id}", memo=config.get("memo", ""), actor=ctx.actor
        )
        reversed_ids.append(reversal.id)
    return {"reversals": reversed_ids}
