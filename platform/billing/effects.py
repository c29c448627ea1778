"""The workflow effect `billing.subscribe`: when a case enters a state, subscribe the case's
customer to a fee plan (once per case and plan: the state entered again changes nothing).

    {"effect": "billing.subscribe", "plan": "standard", "start": {"var": "data.start_date"},
     "anchor_day": {"var": "data.anchor_day"}}

`start` (and the optional `end` and `anchor_day`) may be JSONLogic over the case's rule context;
the dates are ISO text ("2026-01-31"). It registers in the effect registry on import (the app
factory imports this module); billing knows no workflow."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow.billing import plans
from formflow.billing.models import FeePlan, Subscription
from formflow.effects import LOGIC_SCHEMA, EffectContext, effect
from formflow.errors import Invalid
from formflow.extensions import db


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
