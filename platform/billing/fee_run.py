"""The fee run (`formflow fees run`, and `formflow tick`): every item of every active
subscription, for each period due by the business date, charged once from the prepaid balance.

Once: each charge is claimed by its row's unique key (subscription, item, period) — INSERT …
ON CONFLICT DO NOTHING on SQLite and PostgreSQL — and posted with the ledger key
`fee:{subscription}:{item}:{period}` in the same transaction, so a rerun, a run killed half-way
(its open transaction rolled back) and run again, or two nodes at once, charge each period
once. Subscriptions are taken CHUNK at a time, each chunk committed; on PostgreSQL a chunk's
rows are locked FOR UPDATE SKIP LOCKED, so a second node goes on with the next ones instead of
waiting. A charge that fails (the ledger refuses it) is recorded as failed with the reason and
retried by the next run.

When the prepaid balance is short the plan's policy decides: "partial" takes what is there and
puts the rest on the customer's receivable, "receivable" puts it all there (the charge is
then `short`), and an invoice for what went to the receivable is issued with the charge, due
the plan's `due_days` later. `dry_run` works out the same charges and writes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from formflow.billing import invoices
from formflow.billing.calendar import Period, months_of, periods, prorated
from formflow.billing.models import FeeCharge, FeePlanVersion, Subscription
from formflow.billing.plans import latest_version
from formflow.customers.models import Customer
from formflow.errors import Conflict, Invalid
from formflow.extensions import db, utcnow
from formflow.forms.texts import localized
from formflow.i18n import business_zone
from formflow.ledger.services import post_for_customer
from formflow.tables.cells import columns_of, key_column_of
from formflow.tables.lookups import current_global_tables

log = logging.getLogger(__name__)

#: subscriptions per transaction
CHUNK = 100


@dataclass(frozen=True)
class Due:
    """One charge the run owes: an item of a period of a subscription, and its amount."""

    subscription_id: int
    customer_code: str
    item: str
    period: str
    amount: Decimal
    title: str


@dataclass
class FeeRunReport:
    today: date
    dry_run: bool = False
    subscriptions: int = 0
    posted: int = 0
    short: int = 0
    failed: int = 0
    charged: Decimal = Decimal("0.00")
    to_receivable: Decimal = Decimal("0.00")
    dues: list[Due] = field(default_factory=list)  # a dry run's charges


#: the statuses the fee run reads (a suspended subscription still owes its periods before the suspension)
BILLED = ("active", "suspended")


def run_fees(
    today: date, *, dry_run: bool = False, progress: Callable[[int], None] | None = None
) -> FeeRunReport:
    """Charge everything due by `today` (a business date)."""
    report = FeeRunReport(today, dry_run)
    ids = list(
        db.session.execute(
            sa.select(Subscription.id)
            .where(Subscription.status.in_(BILLED), Subscription.start_date <= today)
            .order_by(Subscription.id)
        ).scalars()
    )
    db.session.commit()
    tables = _tables()
    versions: dict[int, FeePlanVersion] = {}  # a plan's newest version, read once per run
    for offset in range(0, len(ids), CHUNK):
        chunk = _claimed(ids[offset : offset + CHUNK])
        for subscription in chunk:
            report.subscriptions += 1
            if subscription.plan_id not in versions:
                versions[subscription.plan_id] = latest_version(subscription.plan_id)
            version = versions[subscription.plan_id]
            for due in dues_of(subscription, version, today, tables):
                if dry_run:
                    report.dues.append(due)
                    report.charged += due.amount
                else:
                    _charge(subscription, version, due, report)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        if progress is not None:
            progress(len(ids[offset : offset + CHUNK]))  # once the chunk is committed
    return report


def _claimed(ids: list[int]) -> list[Subscription]:
    """The chunk's subscriptions; on PostgreSQL those no other run holds, locked until commit."""
    query = sa.select(Subscription).where(Subscription.id.in_(ids)).order_by(Subscription.id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Subscription)
    return list(db.session.execute(query).scalars())


def _tables() -> dict[str, dict]:
    """{table key: {tier: {column: value}}} of the global tables, read once per run."""
    found = {}
    for key, version in current_global_tables().items():
        table = version.as_table()
        names = [column.name for column in columns_of(table)]
        if key_column_of(table) not in names:
            continue
        at = names.index(key_column_of(table))
        found[key] = {row[at]: dict(zip(names, row, strict=False)) for row in table.get("rows") or []}
    return found


def dues_of(subscription: Subscription, version: FeePlanVersion, today: date, tables: dict) -> Iterator[Due]:
    """The charges of `subscription` (on its plan's `version`) due by `today` and not made yet
    (or failed before)."""
    made = {
        (item, period)
        for item, period, status in db.session.execute(
            sa.select(FeeCharge.item, FeeCharge.period, FeeCharge.status).where(
                FeeCharge.subscription_id == subscription.id
            )
        )
        if status != "failed"
    }
    customer = db.session.get(Customer, subscription.customer_id)
    for item in version.definition["items"]:
        for period in _periods_of(item, subscription, today):
            key = "signing" if period is None else period.key
            if (item["id"], key) in made:
                continue
            amount = _amount(item, subscription, customer, tables)
            if amount is None:
                continue  # no amount for the customer's tier: nothing to charge (and said in the grid)
            if period is not None and item.get("prorate"):
                amount = prorated(
                    amount, period, months=months_of(item["frequency"]), anchor_day=subscription.anchor_day
                )
            yield Due(subscription.id, customer.code, item["id"], key, amount, localized(item.get("title")))


def _periods_of(item: dict, subscription: Subscription, today: date) -> Iterator[Period | None]:
    if item["when"] == "signing":
        if subscription.start_date <= today:
            yield None
        return
    yield from periods(
        subscription.start_date,
        months=months_of(item["frequency"]),
        until=today,
        anchor_day=subscription.anchor_day,
        end=subscription.billed_until(),
    )


def _amount(item: dict, subscription: Subscription, customer: Customer, tables: dict) -> Decimal | None:
    override = (subscription.overrides or {}).get(item["id"])
    if override is not None:
        return Decimal(str(override))
    amount = item["amount"]
    if isinstance(amount, str):
        return Decimal(amount)
    row = tables.get(amount["table"], {}).get(customer.tier)
    value = row.get(amount["column"]) if row else None
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _charge(subscription: Subscription, version: FeePlanVersion, due: Due, report: FeeRunReport) -> None:
    """Claim the charge and post it, in a savepoint: a failure is recorded and the run goes on."""
    policy, number = version.definition.get("short", "partial"), version.number
    try:
        with db.session.begin_nested():
            charge_id = _claim(subscription.id, due, number)
            if charge_id is None:
                return  # another run made it meanwhile
            journal = post_for_customer(
                subscription.customer, "management_fee", due.amount,
                key=f"fee:{subscription.id}:{due.item}:{due.period}",
                short="receivable", account="receivable" if policy == "receivable" else None,
                memo=due.title,
                details={"subscription": subscription.id, "item": due.item, "period": due.period},
            )  # fmt: skip
            to_receivable = sum(
                (entry.amount for entry in journal.entries if entry.account.kind == "receivable"),
                Decimal("0"),
            )
            status = "short" if to_receivable > 0 else "posted"
            if to_receivable > 0:
                _invoice(subscription, version, due, charge_id, to_receivable, report.today)
            db.session.execute(
                sa.update(FeeCharge)
                .where(FeeCharge.id == charge_id)
                .values(status=status, journal_id=journal.id, to_receivable=to_receivable, message="")
            )
    except (Invalid, Conflict) as problem:
        _failed(subscription.id, due, number, "; ".join(error["message"] for error in problem.errors))
        report.failed += 1
        return
    report.posted += status == "posted"
    report.short += status == "short"
    report.charged += due.amount
    report.to_receivable += to_receivable


def _invoice(
    subscription: Subscription, version: FeePlanVersion, due: Due, charge_id: int, owed: Decimal, today: date
) -> None:
    """The invoice for what the prepaid balance could not cover (one per short charge)."""
    title = due.title if due.period == "signing" else f"{due.title} ({due.period})"
    invoices.issue(
        subscription.customer,
        [invoices.Item(title, owed, charge_id, due.period)],
        issue_date=today,
        due_days=version.definition.get("due_days", invoices.DEFAULT_DUE_DAYS),
    )


def _claim(subscription_id: int, due: Due, number: int) -> int | None:
    """The charge's row, written now (pending); None when another run wrote it. A failed one
    is taken again."""
    row = {
        "subscription_id": subscription_id, "item": due.item, "period": due.period, "plan_version": number,
        "amount": due.amount, "to_receivable": Decimal("0"), "status": "pending", "message": "",
        "created_at": utcnow(),
    }  # fmt: skip
    connection = db.session.connection()
    retried = connection.execute(
        sa.update(FeeCharge.__table__)
        .where(
            FeeCharge.subscription_id == subscription_id,
            FeeCharge.item == due.item,
            FeeCharge.period == due.period,
            FeeCharge.status == "failed",
        )
        .values(status="pending", amount=due.amount, plan_version=number)
        .returning(FeeCharge.id)
    ).scalar()
    if retried is not None:
        return retried
    insert = _insert(connection).on_conflict_do_nothing().returning(FeeCharge.id)
    return connection.execute(insert, row).scalar()


def _insert(connection: sa.Connection):
    """An INSERT into fee_charge that can say ON CONFLICT (SQLite's or PostgreSQL's)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(FeeCharge.__table__)


def _failed(subscription_id: int, due: Due, number: int, message: str) -> None:
    with db.session.begin_nested():
        connection = db.session.connection()
        insert = _insert(connection).values(
            subscription_id=subscription_id, item=due.item, period=due.period, plan_version=number,
            amount=due.amount, to_receivable=Decimal("0"), status="failed", message=message[:500],
            created_at=utcnow(),
        )  # fmt: skip
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=["subscription_id", "item", "period"],
                set_={"status": "failed", "message": message[:500]},
            )
        )


def business_date(now: datetime) -> date:
    """The business date of `now` (naive means UTC)."""
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    return moment.astimezone(business_zone()).date()


def active_count(today: date) -> int:
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(Subscription)
        .where(Subscription.status.in_(BILLED), Subscription.start_date <= today)
    ).scalar_one()


def charge_fees(now: datetime) -> FeeRunReport:
    """`formflow tick`'s job: the fee run for the business date of `now`."""
    return run_fees(business_date(now))
