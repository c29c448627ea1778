"""The workflow effects `billing.subscribe` and `billing.register_payment`.

`billing.subscribe`: when a case enters a state, subscribe the case's customer to a fee plan
(once per case and plan: the state entered again changes nothing).

    {"effect": "billing.subscribe", "plan": "standard", "start": {"var": "data.start_date"},
     "anchor_day": {"var": "data.anchor_day"}}

`start` (and the optional `end` and `anchor_day`) may be JSONLogic over the case's rule context;
the dates are ISO text ("2026-01-31").

`billing.register_payment`: post the payment the case records (billing.payments), once per case:

    {"effect": "billing.register_payment", "amount": {"var": "data.amount"},
     "paid_on": {"var": "data.paid_on"}, "method": {"var": "data.method"},
     "reference": {"var": "data.bank_reference"}, "allocations": {"var": "data.allocations"}}

They register in the effect registry on import (the app
factory imports this module); billing knows no workflow."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow.billing import payments, plans
from formflow.billing.models import FeePlan, Subscription
from formflow.effects import LOGIC_SCHEMA, EffectContext, effect
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.money import amount as money_amount
from formflow.rules.operators import OperatorFailure, to_money


def _date(value: Any, pointer: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid([{"pointer": pointer, "message": _("Not a date: %(value)s", value=value)}]) from None


@effect(
    "billing.subscribe",
    schema={
        "required": ["plan", "start"],
        "properties": {
            "plan": {"type": "string", "minLength": 1, "maxLength": 80},
            "start": LOGIC_SCHEMA,
            "end": LOGIC_SCHEMA,
            "anchor_day": LOGIC_SCHEMA,
        },
    },
    logic=("/start", "/end", "/anchor_day"),
)
def billing_subscribe(ctx: EffectContext, config: dict) -> dict:
    """Subscribe the case's customer to `plan` from `start`."""
    existing = db.session.execute(
        sa.select(Subscription)
        .join(FeePlan, FeePlan.id == Subscription.plan_id)
        .where(Subscription.case_id == ctx.case.id, FeePlan.key == config["plan"])
    ).scalar_one_or_none()
    if existing is not None:
        return {"subscription": existing.id, "already": True}
    start = _date(ctx.value(config["start"]), "/start")
    end_value = ctx.value(config["end"]) if "end" in config else None
    day_value = ctx.value(config["anchor_day"]) if "anchor_day" in config else None
    end = _date(end_value, "/end") if end_value not in (None, "") else None
    try:
        anchor_day = int(day_value) if day_value not in (None, "") else None
    except (TypeError, ValueError):
        raise Invalid([{"pointer": "/anchor_day", "message": _("An anchor day is from 1 to 31.")}]) from None
    subscription = plans.subscribe(
        ctx.case.customer, config["plan"], start, end=end, anchor_day=anchor_day, case_id=ctx.case.id
    )
    return {"subscription": subscription.id, "start": start.isoformat()}


def _money_value(value: Any, pointer: str) -> Any:
    """A JSONLogic number as an exact amount (rounded half up to the cent); text left as it
    is for billing.payments to judge."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return money_amount(to_money(value))
        except OperatorFailure:
            raise Invalid(
                [{"pointer": pointer, "message": _("Not an amount of money: %(v)s", v=value)}]
            ) from None
    return value


@effect(
    "billing.register_payment",
    schema={
        "required": ["amount", "paid_on", "method"],
        "properties": {
            "amount": LOGIC_SCHEMA,
            "paid_on": LOGIC_SCHEMA,
            "method": LOGIC_SCHEMA,
            "reference": LOGIC_SCHEMA,
            # a list of {"invoice": number, "amount"}; empty or absent: oldest due first
            "allocations": LOGIC_SCHEMA,
        },
    },
    logic=("/amount", "/paid_on", "/method", "/reference", "/allocations"),
)
def billing_register_payment(ctx: EffectContext, config: dict) -> dict:
    """Register the case's payment for its customer (once per case: the key
    `case:{id}:payment`), allocated oldest first or to the invoices the case names."""
    chosen_value = ctx.value(config["allocations"]) if "allocations" in config else None
    chosen = []
    for index, row in enumerate(chosen_value if isinstance(chosen_value, list) else []):
        row = row if isinstance(row, dict) else {}
        amount = _money_value(row.get("amount"), f"/allocations/{index}/amount")
        chosen.append(payments.Chosen(str(row.get("invoice") or ""), amount))
    reference = ctx.value(config["reference"]) if "reference" in config else ""
    payment = payments.register(
        ctx.case.customer,
        _money_value(ctx.value(config["amount"]), "/amount"),
        method=str(ctx.value(config["method"]) or ""),
        paid_on=ctx.value(config["paid_on"]),
        key=f"case:{ctx.case.id}:payment",
        reference=str(reference or ""),
        chosen=chosen or None,
        case_id=ctx.case.id,
        actor=ctx.actor,
    )
    return {
        "payment": payment.id,
        "amount": str(payment.amount),
        "to_prepaid": str(payment.to_prepaid),
        "invoices": [[a.invoice.number, str(a.amount)] for a in payment.allocations],
    }
