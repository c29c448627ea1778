"""Low-balance alerts: when a posting takes a customer's prepaid balance from at or above its
threshold to below it, a notice is kept for the customer and the listeners are told (the
workflow package's notify tells the staff) — once per crossing: not again on later postings
below it, again after the balance has been back at or above it.

The threshold is the prepaid account's own (`Account.alert_below`), else the customer tier's
row of the global parameter table `low_balance_thresholds` (columns tier, threshold),
which admins edit like any parameter table. Neither: no alert."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from formflow.errors import NotFound
from formflow.extensions import db
from formflow.ledger.models import Account, Journal, LowBalanceAlert
from formflow.tables import get_global_table, latest_global_version

THRESHOLD_TABLE = "low_balance_thresholds"

#: called with each new alert, in the posting's transaction (workflows.notify adds one)
LISTENERS: list[Callable[[LowBalanceAlert], None]] = []


def listen(listener: Callable[[LowBalanceAlert], None]) -> Callable[[LowBalanceAlert], None]:
    if listener not in LISTENERS:
        LISTENERS.append(listener)
    return listener


def threshold_for(account: Account) -> Decimal | None:
    """The account's own threshold, else its customer tier's; None when neither is set."""
    if account.alert_below is not None:
        return account.alert_below
    try:
        version = latest_global_version(get_global_table(THRESHOLD_TABLE))
    except NotFound:
        return None
    columns = list(version.columns or [])
    names = [column["name"] if isinstance(column, dict) else column for column in columns]
    if "tier" not in names or "threshold" not in names:
        return None
    tier = account.customer.tier if account.customer is not None else None
    for row in version.rows or []:
        if row[names.index("tier")] == tier:
            try:
                return Decimal(str(row[names.index("threshold")]))
            except (InvalidOperation, TypeError):
                return None
    return None


def after_move(account: Account, before: Decimal, after: Decimal, journal: Journal) -> LowBalanceAlert | None:
    """The alert for a prepaid balance that went from `before` to `after` in `journal`, when
    that crossed the threshold downwards."""
    if account.kind != "prepaid" or after >= before:
        return None
    threshold = threshold_for(account)
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
