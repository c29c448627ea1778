"""The dashboard's charts (/dashboard): receivables by age, fees charged against what went short
per month, payments received per method, customers under their low-balance threshold, and cases
waiting per state with their SLA breaches. Each chart is its numbers — the page prints them as a
table (the accessible form) and Chart.js draws the table."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow.billing.models import FeeCharge, Invoice, Payment
from formflow.billing.payments import METHOD_LABELS, method_label
from formflow.customers.models import Customer
from formflow.extensions import db
from formflow.ledger import alerts
from formflow.processes.models import Process, ProcessVersion
from formflow.processes.titles import state_title
from formflow.records.models import Case
from formflow.workflows.models import Timer

ZERO = Decimal("0.00")
#: days past the due date: (first, last), the last open
AGING = ((1, 30), (31, 60), (61, 90), (91, None))


@dataclass
class Series:
    label: str
    values: list


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # "bar", "doughnut"
    labels: list[str]
    series: list[Series]
    money: bool = True
    note: str = ""
    rows: list = field(default_factory=list)  # extra detail under the table


def receivables_aging(today: date) -> Chart:
    """What is left to pay on open invoices, by days past the due date."""
    buckets = [ZERO] * (len(AGING) + 1)
    rows = db.session.execute(
        sa.select(Invoice.due_date, Invoice.total - Invoice.paid).where(
            Invoice.status.in_(("issued", "partially_paid"))
        )
    )
    for due, left in rows:
        days = (today - due).days
        bucket = next(
            (i for i, (low, high) in enumerate(AGING, 1) if low <= days and (high is None or days <= high)), 0
        )
        buckets[bucket] += left
    labels = [_("Not due yet"), _("0–30 days"), _("31–60 days"), _("61–90 days"), _("over 90 days")]
    return Chart("aging", _("Receivables by age"), "bar", labels, [Series(_("Left to pay"), buckets)])


def fees_by_month(today: date, months: int = 12) -> Chart:
    """Fees charged each month, and how much of them went to the receivable."""
    first = date(today.year, today.month, 1)
    keys = []
    for back in range(months - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        keys.append(f"{year:04d}-{month + 1:02d}")
    charged, short = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    month = sa.func.substr(FeeCharge.period, 1, 7)
    rows = db.session.execute(
        sa.select(month, sa.func.sum(FeeCharge.amount), sa.func.sum(FeeCharge.to_receivable))
        .where(FeeCharge.period != "signing", FeeCharge.status.in_(("posted", "short")), month >= keys[0])
        .group_by(month)
    )
    for key, amount, owed in rows:
        charged[key], short[key] = _money(amount), _money(owed)
    return Chart(
        "fees", _("Fees charged and short, by month"), "bar", keys,
        [Series(_("Charged"), [charged[key] for key in keys]),
         Series(_("To the receivable"), [short[key] for key in keys])],
    )  # fmt: skip


def payments_by_method(today: date, days: int = 365) -> Chart:
    rows = dict(
        db.session.execute(
            sa.select(Payment.method, sa.func.sum(Payment.amount))
            .where(Payment.paid_on > today - timedelta(days=days))
            .group_by(Payment.method)
        ).all()
    )
    methods = list(METHOD_LABELS)
    return Chart(
        "payments", _("Payments received in the last 12 months, by method"), "doughnut",
        [method_label(method) for method in methods],
        [Series(_("Amount received"), [_money(rows.get(m)) for m in methods])],
    )  # fmt: skip


def low_balances() -> Chart:
    count, lowest = alerts.under_threshold(limit=10)
    customers = {c.id: c for c in db.session.execute(
        sa.select(Customer).where(Customer.id.in_([account.customer_id for account, _t in lowest]))
    ).scalars()}  # fmt: skip
    chart = Chart(
        "low", _("Customers under their low-balance threshold"), "bar",
        [customers[account.customer_id].code for account, _t in lowest],
        [Series(_("Prepaid balance"), [account.balance for account, _t in lowest]),
         Series(_("Threshold"), [threshold for _a, threshold in lowest])],
        note=_("%(n)d customers are under their threshold; the lowest are shown.", n=count),
    )  # fmt: skip
    chart.rows = [customers[account.customer_id] for account, _t in lowest]
    return chart


def cases_waiting(now: datetime) -> Chart:
    """Open cases per process and state, and how many of them are past their state's due time."""
    breached = (
        sa.select(Timer.case_id)
        .where(
            Timer.case_id == Case.id,
            Timer.state == Case.state,
            Timer.round == Case.state_round,
            Timer.kind == "due",
            Timer.fire_at < now,
        )
        .exists()
    )
    rows = db.session.execute(
        sa.select(
            Process.key,
            Case.version_id,
            Case.state,
            sa.func.count(),
            sa.func.sum(sa.case((breached, 1), else_=0)),
        )
        .join(Process, Process.id == Case.process_id)
        .where(Case.closed_at.is_(None))
        .group_by(Process.key, Case.version_id, Case.state)
    ).all()
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    versions = {v.id: v for v in db.session.execute(
        sa.select(ProcessVersion).where(ProcessVersion.id.in_({row[1] for row in rows}))
    ).scalars()}  # fmt: skip
    for key, version_id, state, count, late in rows:
        label = f"{_process_name(versions[version_id])} · {state_title(versions[version_id], state)}"
        totals[(key, label)][0] += count
        totals[(key, label)][1] += int(late or 0)
    ordered = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))[:15]
    return Chart(
        "cases", _("Cases waiting, by state"), "bar", [label for (_k, label), _v in ordered],
        [Series(_("Waiting"), [v[0] for _l, v in ordered]),
         Series(_("Past their due time"), [v[1] for _l, v in ordered])],
        money=False,
    )  # fmt: skip


def _process_name(version: ProcessVersion) -> str:
    from formflow.forms.texts import localized

    return localized((version.spec or {}).get("name")) or version.process.key


def _money(value) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(Decimal("0.01"))


def all_charts(today: date, now: datetime) -> list[Chart]:
    return [
        receivables_aging(today),
        fees_by_month(today),
        payments_by_method(today),
        low_balances(),
        cases_waiting(now),
    ]
