"""Every notice sent to customers, in one list: the notice documents of cases (reasons, amounts,
rights… as the customer received them) and the payment reminders of invoices. Filters: the
customer, the kind, the days sent (both inclusive, in the app's time zone). A viewer sees the
notices of the cases they may read (the case list's rule) and the reminders only when they may
read billing. Newest first, keyset pages; exported as "notices" (formflow.tabular)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from formflow import tabular
from formflow.auth.permissions import can
from formflow.billing.models import Invoice, Reminder
from formflow.cases import visibility
from formflow.customers.models import Customer
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.i18n import business_zone
from formflow.records.models import Case
from formflow.tabular import Column
from formflow.workflows.models import NoticeDocument

KINDS = {"case": _l("Case notice"), "reminder": _l("Payment reminder")}
FILTER_ARGS = ("customer", "kind", "since", "until")


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


@dataclass(frozen=True)
class NoticeFilter:
    customer: str | None = None
    #: "case", "reminder" or None (both)
    kind: str | None = None
    since: date | None = None
    until: date | None = None
    #: whose list it is (None: every notice, the CLI)
    viewer: object | None = None


def filters_from(args: Mapping[str, str], viewer) -> NoticeFilter:
    """The list's filters from its query arguments; a bad kind or date is Invalid at its argument."""
    read = tabular.FilterArgs(args)
    text, day = read.text, read.day
    kind = text("kind")
    if kind is not None and kind not in KINDS:
        read.problem("kind", _("Not a kind of notice: %(v)s", v=kind))
    found = NoticeFilter(text("customer"), kind, day("since"), day("until"), viewer)
    read.check()
    return found


def _utc(day: date) -> datetime:
    """The start of `day` in the app's time zone, as the naive UTC the columns hold."""
    return datetime.combine(day, time.min, tzinfo=business_zone()).astimezone(UTC).replace(tzinfo=None)


def _notices(filters: NoticeFilter) -> sa.Select:
    query = sa.select(
        sa.literal("case", sa.String).label("kind"),
        NoticeDocument.id.label("id"),
        NoticeDocument.created_at.label("created_at"),
        NoticeDocument.customer_id.label("customer_id"),
        NoticeDocument.title.label("title"),
        NoticeDocument.body.label("body"),
        NoticeDocument.case_id.label("case_id"),
        sa.cast(sa.null(), sa.String).label("invoice"),
    ).join(Case, NoticeDocument.case_id == Case.id)
    if filters.viewer is not None:
        query = query.where(visibility.visible(filters.viewer))
    return _dated(query, NoticeDocument.created_at, filters)


def _reminders(filters: NoticeFilter) -> sa.Select:
    query = sa.select(
        sa.literal("reminder", sa.String).label("kind"),
        Reminder.id.label("id"),
        Reminder.created_at.label("created_at"),
        Reminder.customer_id.label("customer_id"),
        Reminder.title.label("title"),
        sa.cast(Reminder.body, sa.Text).label("body"),
        sa.cast(sa.null(), sa.Integer).label("case_id"),
        Invoice.number.label("invoice"),
    ).join(Invoice, Reminder.invoice_id == Invoice.id)
    return _dated(query, Reminder.created_at, filters)


def _dated(query: sa.Select, column, filters: NoticeFilter) -> sa.Select:
    if filters.since:
        query = query.where(column >= _utc(filters.since))
    if filters.until:
        query = query.where(column < _utc(filters.until + timedelta(days=1)))
    return query


def _reads_reminders(filters: NoticeFilter) -> bool:
    return filters.viewer is None or can(filters.viewer, "billing.read")


def _matching(filters: NoticeFilter):
    """The notices the filters keep, as a subquery of (kind, id, created_at, customer_id,
    title, body, case_id, invoice) joined to the customer (None: nothing to read)."""
    parts = []
    if filters.kind in (None, "case"):
        parts.append(_notices(filters))
    if filters.kind in (None, "reminder") and _reads_reminders(filters):
        parts.append(_reminders(filters))
    if not parts:
        return None
    found = (sa.union_all(*parts) if len(parts) > 1 else parts[0]).subquery("notice")
    query = sa.select(found, Customer.code.label("customer_code"), Customer.name.label("customer_name")).join(
        Customer, Customer.id == found.c.customer_id
    )
    if filters.customer:
        query = query.where(Customer.code == filters.customer)
    return query, found


@dataclass(frozen=True)
class NoticeRow:
    kind: str
    id: int
    created_at: datetime
    customer_code: str
    customer_name: str
    title: str
    body: str
    case_id: int | None
    invoice: str | None

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)

    @property
    def cursor(self) -> str:
        return f"{self.created_at.isoformat(timespec='microseconds')}_{self.kind}_{self.id}"


def _ordered(filters: NoticeFilter):
    matched = _matching(filters)
    if matched is None:
        return None, None
    query, found = matched
    return query.order_by(found.c.created_at.desc(), found.c.kind.desc(), found.c.id.desc()), found


def _row(mapping) -> NoticeRow:
    return NoticeRow(**{name: mapping[name] for name in NoticeRow.__dataclass_fields__})


def page(filters: NoticeFilter, *, after: str | None, size: int) -> tuple[list[NoticeRow], str | None]:
    """A page of notices, newest first, keyset on (sent, kind, id); (rows, the next cursor)."""
    query, found = _ordered(filters)
    if query is None:
        return [], None
    if after:
        created_at, kind, number = _parse_cursor(after)
        query = query.where(
            sa.tuple_(found.c.created_at, found.c.kind, found.c.id) < sa.tuple_(created_at, kind, number)
        )
    rows = [_row(row) for row in db.session.execute(query.limit(size + 1)).mappings()]
    return rows[:size], rows[size - 1].cursor if len(rows) > size else None


def _parse_cursor(cursor: str) -> tuple[datetime, str, int]:
    try:
        stamp, kind, number = cursor.rsplit("_", 2)
        found = datetime.fromisoformat(stamp), kind, int(number)
    except ValueError:
        found = None
    if found is None or found[1] not in KINDS or not 0 < found[2] < 2**63:
        raise Invalid([{"pointer": "/after", "message": _("Not a page cursor.")}])
    return found


def matching_rows(filters: NoticeFilter) -> Iterator[NoticeRow]:
    """Every notice the filters keep, newest first, read in chunks (an export)."""
    query, _found = _ordered(filters)
    if query is None:
        return
    for row in db.session.execute(query.execution_options(yield_per=tabular.CHUNK)).mappings():
        yield _row(row)


def count(filters: NoticeFilter) -> int:
    matched = _matching(filters)
    if matched is None:
        return 0
    query, _found = matched
    return db.session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()


# --- the export -----------------------------------------------------------------------------------


def columns(_filters: NoticeFilter) -> list[Column]:
    return [
        Column(_("Sent"), "datetime", width=20),
        Column(_("Kind"), width=14),
        Column(_("Customer code"), width=14),
        Column(_("Customer name"), width=24),
        Column(_("Title"), width=30),
        Column(_("Case"), "int"),
        Column(_("Invoice"), width=16),
        Column(_("Notice text"), width=60),
    ]


def export_rows(filters: NoticeFilter) -> Iterator[list]:
    for row in matching_rows(filters):
        yield [
            tabular.local(row.created_at),
            row.kind_label,
            row.customer_code,
            row.customer_name,
            row.title,
            row.case_id,
            row.invoice,
            row.body,
        ]


tabular.register(
    "notices",
    filters=filters_from,
    columns=columns,
    rows=export_rows,
    count=count,
    filter_names=FILTER_ARGS,
    title=lambda: _("Notices"),
    permission="cases.read",
)
