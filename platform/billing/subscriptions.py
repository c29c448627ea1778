"""Changing a subscription once it runs (finance: permission billing.manage), each change audited:

- **suspend** it from a day: the fee run bills no period that starts on or after that day (those
  before it are still owed); refused from a day whose period is already charged.
- **resume** it on a day: the periods that began while it was suspended are recorded as
  *skipped* charges — never charged later, shown as skipped in the charges grid — and billing
  goes on from the first period that starts on or after the resume day.
- **end** it on a day (excluded), or take the end away: refused before a period already charged.
- what **this customer pays** per item instead of the plan's amount (blank: the plan's).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.billing.calendar import months_of, periods
from formflow.billing.fee_run import Made, charges_of
from formflow.billing.models import FeeCharge, Subscription
from formflow.billing.plans import is_amount, latest_version
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db


def by_id(subscription_id: int, *, lock: bool = False) -> Subscription:
    """The subscription; `lock`: held until commit (a fee run charging it meanwhile is waited for,
    so a change is checked against the charges it made)."""
    query = sa.select(Subscription).where(Subscription.id == subscription_id)
    if lock and db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    found = db.session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(_("No subscription %(id)s.", id=subscription_id))
    return found


Day = date | str | None  # a date, its ISO text (a form's), or nothing


def suspend(subscription: Subscription, start: Day, reason: str, *, actor=None) -> Subscription:
    """Bill nothing from `start` on, until resumed."""
    reason = (reason or "").strip()
    problems: list[dict] = []
    start = _day(start, "/suspended_from", problems)
    problems += _day_problems(subscription, start, "/suspended_from") if not problems else []
    if not reason:
        problems.append({"pointer": "/reason", "message": _("Say why the subscription is suspended.")})
    if problems:
        raise Invalid(problems)
    if subscription.status != "active":
        raise Conflict(_("The subscription is not active: it cannot be suspended."))
    subscription.status, subscription.suspended_from = "suspended", start
    db.session.flush()
    audit.record(
        "subscription.suspend", "subscription", subscription.id, before={"status": "active"},
        after={"status": "suspended", "from": start.isoformat(), "reason": reason}, actor=actor,
    )  # fmt: skip
    return subscription


def resume(subscription: Subscription, on: Day, *, actor=None) -> list[str]:
    """Bill again from `on`; the periods that began in between recorded as skipped. The skipped
    periods' start days."""
    if subscription.status != "suspended":
        raise Conflict(_("The subscription is not suspended."))
    problems: list[dict] = []
    on = _day(on, "/resume_on", problems)
    if problems:
        raise Invalid(problems)
    if on is None:
        raise Invalid([{"pointer": "/resume_on", "message": _("Give the day billing starts again.")}])
    if on < subscription.suspended_from:
        message = _("Billing cannot start again before the suspension began (%(day)s).",
                    day=subscription.suspended_from.isoformat())  # fmt: skip
        raise Invalid([{"pointer": "/resume_on", "message": message}])
    version = latest_version(subscription.plan_id)
    made = _charges(subscription).statuses  # every row: a period with one is not skipped again
    skipped = []
    note = _("suspended from %(start)s to %(end)s", start=subscription.suspended_from.isoformat(),
             end=on.isoformat())  # fmt: skip
    for item in version.definition["items"]:
        if item["when"] != "period":
            continue
        for period in periods(
            subscription.start_date, months=months_of(item["frequency"]), until=on - timedelta(days=1),
            anchor_day=subscription.anchor_day, end=subscription.end_date,
        ):  # fmt: skip
            if period.start < subscription.suspended_from or (item["id"], period.key) in made:
                continue
            db.session.add(
                FeeCharge(
                    subscription_id=subscription.id,
                    item=item["id"],
                    period=period.key,
                    period_end=period.end,
                    plan_version=version.number,
                    amount=Decimal("0.00"),
                    status="skipped",
                    message=note[:500],
                )
            )
            skipped.append(period.key)
    before = subscription.suspended_from
    subscription.status, subscription.suspended_from = "active", None
    db.session.flush()
    audit.record(
        "subscription.resume", "subscription", subscription.id,
        before={"status": "suspended", "from": before.isoformat()},
        after={"status": "active", "on": on.isoformat(), "skipped": sorted(set(skipped))}, actor=actor,
    )  # fmt: skip
    return sorted(set(skipped))


def change(subscription: Subscription, end: Day, overrides: dict[str, str], *, actor=None) -> None:
    """Its end day (None: none) and what the customer pays per item (blank: the plan's amount)."""
    problems: list[dict] = []
    end = _day(end, "/end_date", problems)
    problems += _day_problems(subscription, end, "/end_date", required=False) if not problems else []
    items = {item["id"] for item in latest_version(subscription.plan_id).definition["items"]}
    kept = {}
    for item, text in overrides.items():
        text = (text or "").strip().replace(",", "")
        if not text:
            continue
        if item not in items:
            problems.append({"pointer": f"/overrides/{item}", "message": _("The plan has no such item.")})
        elif not is_amount(text):
            message = _("Not an amount of money: more than 0, at most two decimals.")
            problems.append({"pointer": f"/overrides/{item}", "message": message})
        else:
            kept[item] = str(Decimal(text).quantize(Decimal("0.01")))
    if problems:
        raise Invalid(problems)
    before = {"end_date": _iso(subscription.end_date), "overrides": dict(subscription.overrides or {})}
    subscription.end_date, subscription.overrides = end, kept
    after = {"end_date": _iso(end), "overrides": kept}
    if before != after:
        db.session.flush()
        audit.record(
            "subscription.change", "subscription", subscription.id, before=before, after=after, actor=actor
        )


def _day(value: Day, pointer: str, problems: list[dict]) -> date | None:
    if isinstance(value, date) or value is None:
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append({"pointer": pointer, "message": _("Not a date (YYYY-MM-DD).")})
        return None


def _day_problems(
    subscription: Subscription, day: date | None, pointer: str, *, required: bool = True
) -> list:
    """A suspension's start or an end: after the start, and not before a period already charged."""
    if day is None:
        return [{"pointer": pointer, "message": _("This field is required.")}] if required else []
    if day <= subscription.start_date:
        message = _(
            "Give a day after the subscription's start (%(day)s).", day=subscription.start_date.isoformat()
        )
        return [{"pointer": pointer, "message": message}]
    charged = [period for period in _charges(subscription).charged_periods() if period >= day.isoformat()]
    if charged:
        message = _(
            "The period from %(period)s is already charged: give a day after it.", period=max(charged)
        )
        return [{"pointer": pointer, "message": message}]
    return []


def _charges(subscription: Subscription) -> Made:
    return charges_of([subscription.id]).get(subscription.id, Made())


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
