"""The inbox page's filters and orders (`?process=&state=&customer=&sort=`) and the choices
its filter offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from formflow.workflows.inbox import InboxRow


#: the inbox's orders (`?sort=`; a leading "-" reverses): the default is overdue first,
#: then the longest waiting
SORTS = ("since", "due", "amount", "customer")


@dataclass
class InboxFilter:
    """What the inbox page shows of the cases waiting for a user (`?process=&state=` …)."""

    process: str | None = None
    #: a state name, or "process:state" for one process's state
    state: str | None = None
    #: part of the customer's code or name, any case
    customer: str | None = None
    overdue_only: bool = False

    def keeps(self, row: InboxRow) -> bool:
        case = row.case
        if self.process and case.process.key != self.process:
            return False
        if self.state:
            process, _sep, state = self.state.rpartition(":")
            if case.state != state or (process and case.process.key != process):
                return False
        if self.customer:
            text = self.customer.strip().casefold()
            if text not in case.customer.code.casefold() and text not in case.customer.name.casefold():
                return False
        return not (self.overdue_only and not row.overdue)


def shown(rows: list[InboxRow], filters: InboxFilter, sort: str | None) -> list[InboxRow]:
    """The rows the filters keep, in the order asked for (unknown orders: the default).
    Rows without the value sorted on (no due time, no amount) come last either way."""
    kept = [row for row in rows if filters.keeps(row)]
    name = (sort or "").removeprefix("-")
    if name not in SORTS:
        return kept
    value = {
        "since": lambda row: row.waiting_since,
        "due": lambda row: row.due_at,
        "amount": lambda row: row.amount,
        "customer": lambda row: (row.case.customer.code.casefold(), row.case.customer.name),
    }[name]
    present = [row for row in kept if value(row) is not None]
    absent = [row for row in kept if value(row) is None]
    present.sort(key=lambda row: (value(row), row.case.id), reverse=sort.startswith("-"))
    return present + absent


@dataclass
class ProcessStates:
    """A process and its states (name, title) among the rows, for the filter's choices."""

    key: str
    name: str
    states: list[tuple[str, str]] = field(default_factory=list)


def filter_choices(rows: list[InboxRow], locale: str) -> list[ProcessStates]:
    """The processes and states of the cases waiting (so every choice finds something)."""
    found: dict[str, ProcessStates] = {}
    for row in rows:
        process = row.case.process
        entry = found.setdefault(process.key, ProcessStates(process.key, process.name(locale)))
        if all(name != row.case.state for name, _title in entry.states):
            entry.states.append((row.case.state, row.state_title))
    return sorted(found.values(), key=lambda entry: entry.name)
