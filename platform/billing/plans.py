"""Fee plans and subscriptions: a plan's items checked (each problem with its JSON Pointer), saved
as a new version, and a customer subscribed from a start date on an anchor day.

A plan:

    {"items": [
       {"id": "setup", "title": {"zh-CN": "开户费", "en": "Set-up fee"}, "when": "signing",
        "amount": "500.00"},
       {"id": "monthly", "title": {…}, "when": "period", "frequency": "monthly", "prorate": true,
        "amount": {"table": "management_fees", "column": "monthly"}}],
     "short": "partial"}

`when`: "signing" (charged once, on the start date) or "period" (at each period's start).
`amount`: a fixed amount, or the customer's tier's row of a global parameter table (overridable
per subscription). `short`: when the prepaid balance is too low, take what is there and put the
rest on the receivable ("partial"), or put it all on the receivable ("receivable"); the invoice for
what goes to the receivable is due `due_days` (default 15) after it is issued."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow.billing.models import FeePlan, FeePlanVersion, Subscription
from formflow.customers.models import Customer
from formflow.errors import Invalid, NotFound
from formflow.extensions import db
from formflow.forms import validate
from formflow.forms.texts import localized
from formflow.money import MAX_AMOUNT
from formflow.tables.cells import columns_of
from formflow.tables.lookups import current_global_tables

TEXT = {
    "type": "object",
    "required": ["zh-CN", "en"],
    "properties": {"zh-CN": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
AMOUNT = {"type": "string", "pattern": r"^\d{1,13}(\.\d{1,2})?$"}
KEY = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
PLAN_SCHEMA = {
    "type": "object",
    "required": ["items"],
    "additionalProperties": False,
    "properties": {
        "items": {
            "type": "array",
            "minItems": 1,
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["id", "title", "when", "amount"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,79}$"},
                    "title": TEXT,
                    "when": {"enum": ["signing", "period"]},
                    "frequency": {"enum": ["monthly", "quarterly", "yearly"]},
                    "prorate": {"type": "boolean"},
                    "amount": {
                        "oneOf": [
                            AMOUNT,
                            {
                                "type": "object",
                                "required": ["table", "column"],
                                "additionalProperties": False,
                                "properties": {"table": {"type": "string"}, "column": {"type": "string"}},
                            },
                        ]
                    },
                },
            },
        },
        "short": {"enum": ["partial", "receivable"]},
        "due_days": {"type": "integer", "minimum": 0, "maximum": 365},
    },
}


def check_plan(definition: Any) -> list[dict]:
    """Every problem of a plan's definition, with its pointer ([] when fine): the schema's, and
    those of the items the schema lets through (so a form shows every row's problem at once)."""
    problems = validate(PLAN_SCHEMA, definition)
    items = definition.get("items") if isinstance(definition, dict) else None
    if not isinstance(items, list):
        return problems
    wrong = {problem["pointer"] for problem in problems}
    seen: set[str] = set()
    for index, item in enumerate(items):
        at = f"/items/{index}"
        if not isinstance(item, dict) or at in wrong:
            continue
        found = []
        if item.get("id") in seen:
            found.append({"pointer": f"{at}/id", "message": _("Another item has this id.")})
        seen.add(item.get("id"))
        if item.get("when") == "period" and "frequency" not in item:
            found.append({"pointer": f"{at}/frequency", "message": _("Say how often the item is charged.")})
        if item.get("when") == "signing" and ("frequency" in item or item.get("prorate")):
            message = _("An item charged at signing has no frequency and is not prorated.")
            found.append({"pointer": f"{at}/frequency", "message": message})
        if (
            isinstance(item.get("amount"), str)
            and f"{at}/amount" not in wrong
            and _amount(item["amount"]) <= 0
        ):
            found.append({"pointer": f"{at}/amount", "message": _("An amount is more than zero.")})
        problems.extend(problem for problem in found if problem["pointer"] not in wrong)
    periodic = [
        item.get("frequency") for item in items if isinstance(item, dict) and item.get("when") == "period"
    ]
    periodic = [frequency for frequency in periodic if frequency is not None]
    if len(periodic) != len(set(periodic)):
        message = _("Two items are charged for the same periods: one item per frequency.")
        problems.append({"pointer": "/items", "message": message})
    return problems


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(1)  # not an amount: the schema says so


def save_plan(key: str, names: dict, definition: dict, *, actor=None) -> FeePlanVersion:
    """A new version of the plan `key` (the plan itself created on its first save)."""
    problems = check_plan(definition) or _unknown_tables(definition)
    if problems:
        raise Invalid(problems)
    plan = db.session.execute(sa.select(FeePlan).where(FeePlan.key == key)).scalar_one_or_none()
    if plan is None:
        plan = FeePlan(key=key, name_zh=names.get("zh-CN", key), name_en=names.get("en", key))
        db.session.add(plan)
        db.session.flush()
    number = (
        db.session.execute(
            sa.select(sa.func.max(FeePlanVersion.number)).where(FeePlanVersion.plan_id == plan.id)
        ).scalar()
        or 0
    ) + 1
    version = FeePlanVersion(
        plan_id=plan.id, number=number, definition=definition, created_by_id=getattr(actor, "id", None)
    )
    db.session.add(version)
    db.session.flush()
    return version


def _unknown_tables(definition: dict) -> list[dict]:
    """An amount read from a global table that does not exist or has no such column."""
    tables = current_global_tables()
    problems = []
    for index, item in enumerate(definition["items"]):
        amount = item["amount"]
        if not isinstance(amount, dict):
            continue
        version = tables.get(amount["table"])
        if version is None:
            message = _("There is no global table “%(table)s”.", table=amount["table"])
        elif amount["column"] not in [column.name for column in columns_of(version.as_table())]:
            message = _(
                "The table “%(table)s” has no column “%(column)s”.",
                table=amount["table"],
                column=amount["column"],
            )
        else:
            continue
        problems.append({"pointer": f"/items/{index}/amount", "message": message})
    return problems


def item_titles(versions) -> dict[tuple[int, str], str]:
    """{(plan id, item id): the item's title in the reader's language} of each plan version (a
    charge's item named as people read it, not by its key)."""
    return {
        (version.plan_id, item["id"]): localized(item.get("title")) or item["id"]
        for version in versions
        for item in version.definition.get("items", [])
    }


def latest_version(plan_id: int) -> FeePlanVersion:
    found = db.session.execute(
        sa.select(FeePlanVersion)
        .where(FeePlanVersion.plan_id == plan_id)
        .order_by(FeePlanVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("The fee plan has no version."))
    return found


def subscribe(
    customer: Customer,
    plan_key: str,
    start: date,
    *,
    end: date | None = None,
    anchor_day: int | None = None,
    overrides: dict | None = None,
    case_id: int | None = None,
) -> Subscription:
    """The customer subscribed to the plan from `start` (to `end`, excluded), billed on
    `anchor_day` (default: the start's day); Invalid with pointers for what is wrong."""
    plan = db.session.execute(sa.select(FeePlan).where(FeePlan.key == plan_key)).scalar_one_or_none()
    problems = []
    if plan is None:
        problems.append({"pointer": "/plan", "message": _("No fee plan “%(key)s”.", key=plan_key)})
    if customer.created_at is not None and start < customer.created_at.date():
        message = _("The subscription cannot start before the customer was registered (%(day)s).",
                    day=customer.created_at.date().isoformat())  # fmt: skip
        problems.append({"pointer": "/start_date", "message": message})
    if end is not None and end <= start:
        problems.append({"pointer": "/end_date", "message": _("The end comes after the start.")})
    day = anchor_day or start.day
    if not 1 <= day <= 31:
        problems.append({"pointer": "/anchor_day", "message": _("An anchor day is from 1 to 31.")})
    items = {item["id"] for item in latest_version(plan.id).definition["items"]} if plan else set()
    for item, amount in (overrides or {}).items():
        if item not in items:
            problems.append({"pointer": f"/overrides/{item}", "message": _("The plan has no such item.")})
        elif not is_amount(amount):
            problems.append({"pointer": f"/overrides/{item}", "message": _("Not an amount of money.")})
    if problems:
        raise Invalid(problems)
    subscription = Subscription(
        customer_id=customer.id, plan_id=plan.id, start_date=start, end_date=end, anchor_day=day,
        overrides=dict(overrides or {}), case_id=case_id,
    )  # fmt: skip
    db.session.add(subscription)
    db.session.flush()
    return subscription


def is_amount(text: Any) -> bool:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return False
    return value.is_finite() and 0 < value <= MAX_AMOUNT and value == value.quantize(Decimal("0.01"))
