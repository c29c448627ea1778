"""The charges grid: subscriptions down, months across, each cell what the fee run did for that
month — posted, short (the rest on the receivable), failed (why), skipped (the subscription
ended or is suspended) — as finance reads it to check a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from formflow.billing.models import FeeCharge, FeePlan, Subscription
from formflow.customers.models import Customer
from formflow.extensions import db

PAGE = 50


@dataclass
class Cell:
    status: str = ""  # "", posted, short, failed, skipped, pending
    amount: Decimal = Decimal("0.00")
    to_receivable: Decimal = Decimal("0.00")
    messages: list[str] = field(default_factory=list)


@dataclass
class Row:
    subscription: Subscription
    customer: Customer
    plan: FeePlan
    cells: list[Cell]


@dataclass
class Grid:
    months: list[str]
    rows: list[Row]
    next_after: int | None


def month_list(end: date, count: int) -> list[str]:
    """`count` months ending with `end`'s, oldest first, as "2026-11"."""
    index = end.year * 12 + end.month - 1
    return [f"{(index - back) // 12:04d}-{(index - back) % 12 + 1:02d}" for back in range(count - 1, -1, -1)]


_RANK = {"failed": 5, "short": 4, "pending": 3, "posted": 2, "skipped": 1}


def charges_grid(end: date, *, count: int = 6, after: int | None = None) -> Grid:
    months = month_list(end, count)
    query = (
        sa.select(Subscription, Customer, FeePlan)
        .join(Customer, Customer.id == Subscription.customer_id)
        .join(FeePlan, FeePlan.id == Subscription.plan_id)
        .order_by(Subscription.id)
        .limit(PAGE + 1)
    )
    if after is not None:
        query = query.where(Subscription.id > after)
    found = db.session.execute(query).all()
    more = len(found) > PAGE
    found = found[:PAGE]
    charges: dict[tuple[int, str], Cell] = {}
    if found:
        rows = db.session.execute(
            sa.select(FeeCharge).where(FeeCharge.subscription_id.in_([s.id for s, _c, _p in found]))
        ).scalars()
        for charge in rows:
            month = charge.period[:7] if charge.period != "signing" else None
            if month not in months:
                continue
            cell = charges.setdefault((charge.subscription_id, month), Cell())
            cell.amount += charge.amount
            cell.to_receivable += charge.to_receivable
            if _RANK.get(charge.status, 0) > _RANK.get(cell.status, 0):
                cell.status = charge.status
            if charge.message:
                cell.messages.append(charge.message)
    grid_rows = []
    for subscription, customer, plan in found:
        cells = []
        for month in months:
            cell = charges.get((subscription.id, month))
            if cell is None:
                cell = Cell(status=_skipped(subscription, month))
            cells.append(cell)
        grid_rows.append(Row(subscription, customer, plan, cells))
    return Grid(months, grid_rows, found[-1][0].id if more else None)


def _skipped(subscription: Subscription, month: str) -> str:
    """ "skipped" for a month the subscription does not bill: ended or suspended by then."""
    if month < subscription.start_date.isoformat()[:7]:
        return ""
    stop = subscription.billed_until()
    return "skipped" if stop is not None and month >= stop.isoformat()[:7] else ""
