"""Low-balance alerts: when a posting takes a customer's prepaid balance from at or above its
threshold to below it, a notice is kept for the customer and the listeners are told (the
workflow package's notify tells the staff) — once per crossing: not again on later postings
below it, again after the balance has been back at or above it.

The threshold is the prepaid account's own (`Account.alert_below`), else the customer tier's
row of the global parameter table `low_balance_thresholds` (columns tier, threshold),
which admins edit like any parameter table. Neither: no alert."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from formflow import tables
from formflow.customers.models import Customer
from formflow.extensions import db
from formflow.ledger.models import Account, Journal, LowBalanceAlert
from formflow.tables.models import GlobalTable, GlobalTableVersion

THRESHOLD_TABLE = "low_balance_thresholds"
#: the thresholds table as created by create_threshold_table (admins then edit its rows)
THRESHOLD_NAMES = {"zh-CN": "预存余额预警线", "en": "Low-balance thresholds"}
THRESHOLD_COLUMNS = [
    {"name": "tier", "type": "text", "title": {"zh-CN": "客户等级", "en": "Tier"}},
    {"name": "threshold", "type": "money", "title": {"zh-CN": "预存余额预警线", "en": "Alert below"}},
]

#: called with each new alert, in the posting's transaction (workflows.notify adds one)
LISTENERS: list[Callable[[LowBalanceAlert], None]] = []


def listen(listener: Callable[[LowBalanceAlert], None]) -> Callable[[LowBalanceAlert], None]:
    if listener not in LISTENERS:
        LISTENERS.append(listener)
    return listener


@dataclass(frozen=True)
class ThresholdFacts:
    """What decides an account's threshold, read with its balance move: its own threshold,
    its customer's tier, and the sha256 of the thresholds table's latest version (None: no table)."""

    own: Decimal | None
    tier: str | None
    table_version: str | None


_LATEST_VERSION = (
    sa.select(GlobalTableVersion.sha256)
    .join(GlobalTable, GlobalTable.id == GlobalTableVersion.table_id)
    .where(GlobalTable.key == THRESHOLD_TABLE)
    .order_by(GlobalTableVersion.number.desc())
    .limit(1)
)
#: the columns of ThresholdFacts for an UPDATE … RETURNING on ledger_account: the posting
#: learns them in the round trip that moves the balance. Written out because SQLAlchemy drops
#: the table names of columns inside a RETURNING clause on SQLite (ambiguous `id` there).
FACT_COLUMNS = (
    Account.__table__.c.alert_below,
    sa.literal_column(
        "(SELECT customer.tier FROM customer WHERE customer.id = ledger_account.customer_id)", sa.String
    ),
    sa.literal_column(
        "(SELECT global_table_version.sha256 FROM global_table_version"
        " JOIN global_table ON global_table.id = global_table_version.table_id"
        f" WHERE global_table.key = '{THRESHOLD_TABLE}'"
        " ORDER BY global_table_version.number DESC LIMIT 1)",
        sa.String,
    ),
)

#: {version sha256: {tier: threshold}}: a version's content never changes, so neither does this
_TIER_THRESHOLDS: dict[str, dict[str, Decimal | None]] = {}


def create_threshold_table(rows: list[list], *, actor=None):
    """The global table the alerts read, with `rows` ([tier, threshold], …): its newest version."""
    first = tables.create_global_table(
        THRESHOLD_TABLE, THRESHOLD_NAMES, THRESHOLD_COLUMNS, "tier", actor=actor
    )
    return tables.save_global_table(THRESHOLD_TABLE, rows, expected_number=first.number, actor=actor)[0]


def threshold_for(account: Account) -> Decimal | None:
    """The account's own threshold, else its customer's tier's; None when neither is set."""
    tier = account.customer.tier if account.customer is not None else None
    version = db.session.execute(_LATEST_VERSION).scalar()
    return _threshold(ThresholdFacts(account.alert_below, tier, version))


def _threshold(facts: ThresholdFacts) -> Decimal | None:
    if facts.own is not None:
        return facts.own
    if facts.table_version is None:
        return None
    by_tier = _TIER_THRESHOLDS.get(facts.table_version)
    if by_tier is None:
        by_tier = _tier_thresholds(facts.table_version)
        if len(_TIER_THRESHOLDS) > 100:
            _TIER_THRESHOLDS.clear()
        _TIER_THRESHOLDS[facts.table_version] = by_tier
    return by_tier.get(facts.tier)


def _tier_thresholds(sha256: str) -> dict[str, Decimal | None]:
    """{tier: threshold} of the thresholds table's version of this content (None: not a number)."""
    version = db.session.execute(
        sa.select(GlobalTableVersion.columns, GlobalTableVersion.rows)
        .join(GlobalTable, GlobalTable.id == GlobalTableVersion.table_id)
        .where(GlobalTable.key == THRESHOLD_TABLE, GlobalTableVersion.sha256 == sha256)
        .limit(1)
    ).one_or_none()
    if version is None:
        return {}
    names = [column["name"] if isinstance(column, dict) else column for column in version.columns or []]
    if "tier" not in names or "threshold" not in names:
        return {}
    found: dict[str, Decimal | None] = {}
    for row in version.rows or []:
        tier = row[names.index("tier")]
        if isinstance(tier, list | dict) or tier in found:
            continue  # no tier, or not the first row of its tier
        try:
            found[tier] = Decimal(str(row[names.index("threshold")]))
        except (InvalidOperation, TypeError):
            found[tier] = None
    return found


def after_move(
    account: Account, before: Decimal, after: Decimal, journal: Journal, facts: ThresholdFacts | None = None
) -> LowBalanceAlert | None:
    """The alert for a prepaid balance that went from `before` to `after` in `journal`, when
    that crossed the threshold downwards (`facts`: read with the move, else looked up)."""
    if account.kind != "prepaid" or after >= before:
        return None
    threshold = _threshold(facts) if facts is not None else threshold_for(account)
    if threshold is None or not (before >= threshold > after):
        return None
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):  # the business language
        title = _("Low prepaid balance")
        body = _(
            "Your prepaid balance is %(balance)s, below %(threshold)s. Please top up in time.",
            balance=f"{after:,.2f}",
            threshold=f"{threshold:,.2f}",
        )
    alert = LowBalanceAlert(
        customer_id=account.customer_id,
        account_id=account.id,
        journal_id=journal.id,
        balance_before=before,
        balance_after=after,
        threshold=threshold,
        title=title,
        body=body,
    )
    db.session.add(alert)
    db.session.flush()
    for listener in LISTENERS:
        listener(alert)
    return alert


def under_threshold(*, limit: int = 20) -> tuple[int, list[tuple[Account, Decimal]]]:
    """Prepaid accounts below their threshold (their own, else their tier's): how many, and the
    lowest `limit` of them with the threshold each is under."""
    version = db.session.execute(_LATEST_VERSION).scalar()
    by_tier = {
        tier: value
        for tier, value in (_tier_thresholds(version) if version else {}).items()
        if value is not None
    }
    tier_threshold = (
        sa.case(
            {tier: sa.literal(value, Account.alert_below.type) for tier, value in by_tier.items()},
            value=Customer.tier,
        )
        if by_tier
        else sa.null()
    )
    threshold = sa.func.coalesce(Account.alert_below, tier_threshold)
    below = sa.and_(Account.kind == "prepaid", threshold.is_not(None), Account.balance < threshold)
    base = (
        sa.select(Account, threshold.label("threshold"))
        .join(Customer, Customer.id == Account.customer_id)
        .where(below)
    )
    count = db.session.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    rows = db.session.execute(base.order_by(Account.balance, Account.id).limit(limit)).all()
    return count, [(account, Decimal(str(value))) for account, value in rows]
