"""Finding cases: the list's filters, its keyset pages, its totals and the choices of its
filter fields (processes, states); an export reads the same filters in batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import get_timezone
from flask_babel import gettext as _

from formflow import forms, tabular
from formflow.auth.models import User
from formflow.cases import visibility
from formflow.customers.models import Customer
from formflow.errors import Invalid, NotFound
from formflow.extensions import db
from formflow.processes import services as processes
from formflow.processes.models import Process, ProcessVersion
from formflow.records.checking import form_of
from formflow.records.models import Case
from formflow.workflows import engine

STATES = ("draft", "submitted")


def process_choices() -> list[Process]:
    """Every process, for the list's filter (cases outlive their process's publication)."""
    return list(db.session.execute(sa.select(Process).order_by(Process.key)).scalars())


@dataclass
class CaseFilter:
    """What the case list shows; dates are days in the app's time zone, both inclusive."""

    process: str | None = None
    state: str | None = None
    customer: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    text: str | None = None
    #: whose list it is: only the cases this user may read (formflow.cases.visibility)
    viewer: User | None = None

    def apply(self, query: sa.Select) -> sa.Select:
        if self.viewer is not None:
            query = query.where(visibility.visible(self.viewer))
        if self.process:
            query = query.where(Case.process_id.in_(sa.select(Process.id).where(Process.key == self.process)))
        if self.state:
            # "review" (in any process) or "deduction:review" (one process's state)
            process, _sep, state = self.state.rpartition(":")
            query = query.where(Case.state == state)
            if process:
                query = query.where(Case.process_id.in_(sa.select(Process.id).where(Process.key == process)))
        if self.customer:
            query = query.where(Customer.code == self.customer.strip())
        if self.created_from:
            query = query.where(Case.created_at >= _utc_midnight(self.created_from))
        if self.created_to:
            query = query.where(Case.created_at < _utc_midnight(self.created_to + timedelta(days=1)))
        if self.text and self.text.strip():
            text = self.text.strip()
            query = query.where(
                sa.or_(
                    Case.search_text.contains(text.lower(), autoescape=True),
                    Customer.code.icontains(text, autoescape=True),
                    Customer.name.icontains(text, autoescape=True),
                )
            )
        return query


def _utc_midnight(day: date) -> datetime:
    """The start of `day` in the app's time zone, as the naive UTC the columns hold."""
    # ZoneInfo by name: flask-babel may hand out a pytz zone, which `tzinfo=` gets wrong.
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(str(get_timezone())))
    return local.astimezone(UTC).replace(tzinfo=None)


#: the list's filters (query arguments), as the page, its export links and the CLI read them
LIST_ARGS = ("process", "state", "customer", "created_from", "created_to", "q")


def filters_from(args, viewer: User | None) -> CaseFilter:
    """The case list's filters from its query arguments (`viewer`: whose list; None: every case);
    a date that is none is Invalid, pointing at its argument."""
    read = tabular.FilterArgs(args)
    text, day = read.text, read.day
    found = CaseFilter(
        process=text("process"),
        state=text("state"),
        customer=text("customer"),
        created_from=day("created_from"),
        created_to=day("created_to"),
        text=text("q"),
        viewer=viewer,
    )
    read.check()
    return found


def page(filters: CaseFilter, *, after: str | None, size: int) -> tuple[list[Case], str | None]:
    """Newest first, keyset-paginated on (created_at, id); returns the rows and the cursor
    of the next page (None on the last)."""
    query = filters.apply(sa.select(Case).join(Case.customer))
    if after:
        created_at, case_id = _parse_cursor(after)
        query = query.where(sa.tuple_(Case.created_at, Case.id) < sa.tuple_(created_at, case_id))
    query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(size + 1)
    rows = list(db.session.execute(query).unique().scalars())
    next_cursor = _cursor(rows[size - 1]) if len(rows) > size else None
    return rows[:size], next_cursor


def _cursor(case: Case) -> str:
    return f"{case.created_at.isoformat(timespec='microseconds')}_{case.id}"


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    stamp, _sep, case_id = cursor.rpartition("_")
    try:
        created_at, number = datetime.fromisoformat(stamp), int(case_id)
    except ValueError:
        number = -1
    if not 0 < number < 2**63:
        raise Invalid([{"pointer": "/after", "message": _("Not a page cursor.")}])
    return created_at, number


def state_title(case: Case) -> str:
    """The case's state as the user reads it: the workflow state's title (the key only
    when the spec gives none); without a workflow, Draft or Submitted."""
    return _state_title(case.version, case.state)


def _state_title(version: ProcessVersion, state: str) -> str:
    from formflow.processes.titles import state_title

    return state_title(version, state)


@dataclass
class ProcessStates:
    """A process and its states, (filter value "process:state", title), for the filter."""

    key: str
    name: str
    states: list[tuple[str, str]]


def state_choices(locale: str, process: str | None = None) -> list[ProcessStates]:
    """Every process's states over all its versions (newest version's order and titles
    first), for the list's state filter; only `process`'s when given."""
    query = (
        sa.select(ProcessVersion)
        .join(ProcessVersion.process)
        .order_by(Process.key, ProcessVersion.number.desc())
    )
    if process:
        query = query.where(Process.key == process)
    found: dict[str, ProcessStates] = {}
    seen: set[tuple[str, str]] = set()
    for version in db.session.execute(query).scalars():
        key = version.process.key
        entry = found.setdefault(key, ProcessStates(key, version.process.name(locale), []))
        workflow = engine.workflow_of(version)
        for state in workflow["states"] if workflow else STATES:
            if (key, state) not in seen:
                seen.add((key, state))
                entry.states.append((f"{key}:{state}", _state_title(version, state)))
    return sorted(found.values(), key=lambda entry: entry.name)


@dataclass
class Totals:
    """How many cases match the filters and, with a process chosen whose form has a money
    field, the sum of that field (its first top-level one; cases without a value add 0)."""

    count: int
    amount: Decimal | None = None
    amount_title: str = ""


def matching_count(filters: CaseFilter) -> int:
    """How many cases the filters keep."""
    base = filters.apply(sa.select(Case.id).join(Case.customer)).subquery()
    return db.session.execute(sa.select(sa.func.count()).select_from(base)).scalar_one()


def totals(filters: CaseFilter) -> Totals:
    count = matching_count(filters)
    money = _money_field(filters.process) if filters.process else None
    if money is None:
        return Totals(count)
    name, title = money
    amount = Decimal("0.00")
    query = filters.apply(sa.select(Case.data).join(Case.customer))
    for (data,) in db.session.execute(query.execution_options(yield_per=1000)):
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            amount += value
    return Totals(count, amount, title)


def _money_field(process_key: str) -> tuple[str, str] | None:
    """(top-level name, title) of the first money field of the process's form, as its
    published version (else its latest) has it."""
    try:
        version = processes.published_version(process_key)
    except NotFound:
        try:
            version = processes.latest_version(process_key)
        except NotFound:
            return None
    money = next((column for column in forms.columns(*form_of(version)) if column.money), None)
    return (money.name, money.title) if money else None


def matching(filters: CaseFilter, *, limit: int | None = None) -> Iterator[Case]:
    """The cases the list shows, newest first (at most `limit`), read in batches (an export)."""
    query = (
        filters.apply(sa.select(Case).join(Case.customer))
        .options(sa.orm.lazyload(Case.version), sa.orm.lazyload(Case.process))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    yield from db.session.execute(query.execution_options(yield_per=500)).scalars()


def versions_matching(filters: CaseFilter) -> list[ProcessVersion]:
    """The process versions of the cases the filters keep (their forms make the columns)."""
    ids = filters.apply(sa.select(Case.version_id).join(Case.customer)).distinct()
    query = sa.select(ProcessVersion).where(ProcessVersion.id.in_(ids)).join(ProcessVersion.process)
    return list(db.session.execute(query.order_by(Process.key, ProcessVersion.number.desc())).scalars())
