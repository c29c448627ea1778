"""The fee run (`formflow fees run`, and `formflow tick`): every item of every active
subscription, for each period due by the business date, charged once from the prepaid balance.

Once: each charge is posted with the ledger key `fee:{subscription}:{item}:{period}` (unique:
the claim; a key already taken gives the first journal back, and the run leaves it) and recorded
by its row's unique key (subscription, item, period) in the same transaction, so a rerun, a run
killed half-way (its open transaction rolled back) and run again, or two nodes at once, charge
each period once. Subscriptions are taken CHUNK at a time, each chunk committed; on PostgreSQL a chunk's
rows are locked FOR UPDATE SKIP LOCKED, so a second node goes on with the next ones instead of
waiting. A charge that fails (the ledger refuses it) is recorded as failed with the reason and
retried by the next run. A chunk runs without a savepoint per charge; when a charge is refused
the chunk is rolled back and run again with one, so the refusal is recorded and the rest posted.

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
    #: the period's end (excluded); None for an item charged at signing
    period_end: date | None = None


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
        chunk_ids = ids[offset : offset + CHUNK]
        try:  # quick: no savepoint per charge; a charge refused undoes the chunk, done again carefully
            _run_chunk(chunk_ids, today, tables, versions, report, careful=False)
        except _Redo:
            db.session.rollback()
            _run_chunk(chunk_ids, today, tables, versions, report, careful=True)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        if progress is not None:
            progress(len(chunk_ids))  # once the chunk is committed
    return report


class _Redo(Exception):
    """A charge was refused in a chunk run without savepoints."""


def _run_chunk(
    ids: list[int], today: date, tables: dict, versions: dict, report: FeeRunReport, *, careful: bool
) -> None:
    """Charge the chunk's dues; its counts go into `report` only once it has run through."""
    done = FeeRunReport(today, report.dry_run)
    chunk = _claimed(ids)
    made = charges_of([subscription.id for subscription in chunk])
    for subscription in chunk:
        done.subscriptions += 1
        if subscription.plan_id not in versions:
            versions[subscription.plan_id] = latest_version(subscription.plan_id)
        version = versions[subscription.plan_id]
        for due in dues_of(subscription, version, today, tables, made.get(subscription.id, Made())):
            if done.dry_run:
                done.dues.append(due)
                done.charged += due.amount
            else:
                _charge(subscription, version, due, done, careful=careful)
    for name in ("subscriptions", "posted", "short", "failed", "charged", "to_receivable"):
        setattr(report, name, getattr(report, name) + getattr(done, name))
    report.dues += done.dues


def _claimed(ids: list[int]) -> list[Subscription]:
    """The chunk's subscriptions with their customers; on PostgreSQL those no other run holds,
    locked until commit."""
    query = (
        sa.select(Subscription)
        .where(Subscription.id.in_(ids))
        .order_by(Subscription.id)
        .options(sa.orm.selectinload(Subscription.customer))
    )
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


@dataclass
class Made:
    """What a subscription's charge rows say: each (item, period)'s status, and for each item the
    day up to which its periods are charged (or skipped) — a plan whose frequency changed
    starts billing from there, never charging a day twice."""

    statuses: dict[tuple[str, str], str] = field(default_factory=dict)
    covered: dict[str, date] = field(default_factory=dict)

    def charged_periods(self) -> list[str]:
        """The start days of the periods charged (neither failed, so retried, nor skipped)."""
        return [
            period
            for (_item, period), status in self.statuses.items()
            if period != "signing" and status not in ("failed", "skipped")
        ]


def charges_of(subscription_ids: list[int]) -> dict[int, Made]:
    """{subscription id: Made} of the charge rows written, in one statement."""
    found: dict[int, Made] = {}
    if not subscription_ids:
        return found
    rows = db.session.execute(
        sa.select(
            FeeCharge.subscription_id,
            FeeCharge.item,
            FeeCharge.period,
            FeeCharge.status,
            FeeCharge.period_end,
        ).where(FeeCharge.subscription_id.in_(subscription_ids))
    )
    for subscription_id, item, period, status, period_end in rows:
        made = found.setdefault(subscription_id, Made())
        made.statuses[(item, period)] = status
        if period_end is not None and status != "failed":
            made.covered[item] = max(period_end, made.covered.get(item, period_end))
    return found


def dues_of(
    subscription: Subscription,
    version: FeePlanVersion,
    today: date,
    tables: dict,
    made: Made,
) -> Iterator[Due]:
    """The charges of `subscription` (on its plan's `version`) due by `today` and not made yet
    (or failed before); `made`: its charge rows. A period partly charged already under another
    frequency (the plan changed) is charged from where that ended, by days; one wholly charged
    is not."""
    customer = subscription.customer
    for item in version.definition["items"]:
        covered = made.covered.get(item["id"])
        for period in _periods_of(item, subscription, today):
            change_over = False
            if period is not None and covered is not None and period.start < covered:
                if period.end <= covered:
                    continue  # charged already, as part of a longer period
                if covered > today:
                    continue  # its rest begins later: a later run charges it
                period, change_over = Period(covered, period.end), True
            key = "signing" if period is None else period.key
            status = made.statuses.get((item["id"], key))
            if status is not None and status != "failed":
                continue
            amount = _amount(item, subscription, customer, tables)
            if amount is None:
                continue  # no amount for the customer's tier: nothing to charge (and said in the grid)
            if period is not None and (item.get("prorate") or change_over):
                amount = prorated(
                    amount, period, months=months_of(item["frequency"]), anchor_day=subscription.anchor_day
                )
            yield Due(
                subscription.id, customer.code, item["id"], key, amount, localized(item.get("title")),
                period_end=period.end if period is not None else None,
            )  # fmt: skip


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


def _charge(
    subscription: Subscription, version: FeePlanVersion, due: Due, report: FeeRunReport, *, careful: bool
) -> None:
    """Post the charge and record it; `careful`: in a savepoint, a refusal recorded as failed and
    the run goes on (else a refusal raises _Redo)."""
    number = version.number
    try:
        if careful:
            with db.session.begin_nested():
                outcome = _post_charge(subscription, version, due, report.today)
        else:
            outcome = _post_charge(subscription, version, due, report.today)
    except (Invalid, Conflict) as problem:
        if not careful:
            raise _Redo from problem
        _failed(subscription.id, due, number, "; ".join(error["message"] for error in problem.errors))
        report.failed += 1
        return
    if outcome is None:
        return  # another run made it meanwhile
    status, to_receivable = outcome
    report.posted += status == "posted"
    report.short += status == "short"
    report.charged += due.amount
    report.to_receivable += to_receivable


def _post_charge(subscription: Subscription, version: FeePlanVersion, due: Due, today: date):
    """The charge posted with its ledger key (the claim: unique) and its row written, with the
    invoice for what went to the receivable; (status, to the receivable), or None when the key
    was taken (another run made it)."""
    policy = version.definition.get("short", "partial")
    journal = post_for_customer(
        subscription.customer, "management_fee", due.amount,
        key=f"fee:{subscription.id}:{due.item}:{due.period}",
        short="receivable", account="receivable" if policy == "receivable" else None,
        memo=due.title,
        details={"subscription": subscription.id, "item": due.item, "period": due.period},
    )  # fmt: skip
    if getattr(journal, "replayed", False):
        return None
    to_receivable = sum(
        (line.amount for line in journal.posted_lines if line.account.kind == "receivable"), Decimal("0")
    )
    status = "short" if to_receivable > 0 else "posted"
    charge_id = _record(subscription.id, due, version.number, status, journal.id, to_receivable)
    if to_receivable > 0:
        _invoice(subscription, version, due, charge_id, to_receivable, today)
    return status, to_receivable


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


def _record(subscription_id: int, due: Due, number: int, status: str, journal_id: int, owed: Decimal) -> int:
    """The charge's row (unique per subscription, item and period), written once it is posted;
    a failed one is overwritten. Its id."""
    values = {
        "plan_version": number, "amount": due.amount, "to_receivable": owed, "status": status,
        "journal_id": journal_id, "message": "", "period_end": due.period_end,
    }  # fmt: skip
    connection = db.session.connection()
    insert = _insert(connection).values(
        subscription_id=subscription_id, item=due.item, period=due.period, created_at=utcnow(), **values
    )
    upsert = insert.on_conflict_do_update(index_elements=["subscription_id", "item", "period"], set_=values)
    return connection.execute(upsert.returning(FeeCharge.id)).scalar_one()


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
            period_end=due.period_end, created_at=utcnow(),
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
