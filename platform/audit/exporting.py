"""The audit log as a file, for exactly the filters the log page shows: every column an entry's
hash covers, plus its chain, previous hash and hash (so a reader can re-check the chain from
the file), oldest first. Registered in formflow.tabular as "audit"; the app factory imports it.

`at` is in the app's time zone with its offset (to the microsecond, as stored) in CSV, a date
and time in XLSX; before/after are canonical JSON. Cells that start like a formula get a
leading ' (the hash is recomputed from the stored row, never from such a cell)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import to_utc

from formflow import tabular
from formflow.audit.models import AuditEntry
from formflow.audit.services import AuditFilter, canonical_json
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.tabular import Column

#: the log's filters (query arguments), as the page, its export links and the CLI read them
FILTER_ARGS = ("actor", "action", "object_type", "object_id", "since", "until")


def _day(args: Mapping[str, str], name: str, errors: list[dict]) -> datetime | None:
    """The start of the day `name` gives (YYYY-MM-DD in the app's time zone), as stored UTC."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return to_utc(datetime.combine(date.fromisoformat(raw), time.min))
    except ValueError:
        errors.append({"pointer": f"/{name}", "message": _("Not a date (YYYY-MM-DD): %(v)s", v=raw)})
        return None


def filters_from(args: Mapping[str, str], viewer=None) -> AuditFilter:
    """The log's filters from its query arguments; bad dates are Invalid, each at its argument."""
    errors: list[dict] = []
    since, until = _day(args, "since", errors), _day(args, "until", errors)
    if errors:
        raise Invalid(errors)

    def text(name: str) -> str | None:
        return (args.get(name) or "").strip() or None

    return AuditFilter(
        actor=text("actor"),
        action=text("action"),
        object_type=text("object_type"),
        object_id=text("object_id"),
        since=since,
        until=until + timedelta(days=1) if until else None,
    )


def columns(_filters: AuditFilter) -> list[Column]:
    return [
        Column(_("Chain"), "int"),
        Column(_("Sequence"), "int"),
        Column(_("Time"), "datetime", width=26, timespec="microseconds"),
        Column(_("Actor"), width=14),
        Column(_("Action"), width=20),
        Column(_("Object type"), width=14),
        Column(_("Object"), width=12),
        Column(_("Before the change"), width=40),
        Column(_("After the change"), width=40),
        Column(_("Request"), width=20),
        Column(_("Previous hash"), width=20),
        Column(_("Hash"), width=20),
    ]


def rows(filters: AuditFilter) -> Iterator[list]:
    """The entries the filters keep, oldest first (the order of writing), read in chunks."""
    query = filters.apply(sa.select(AuditEntry)).order_by(AuditEntry.id)
    for entry in db.session.execute(query.execution_options(yield_per=tabular.CHUNK)).scalars():
        yield [
            entry.chain,
            entry.seq,
            tabular.local(entry.at),
            entry.actor_name,
            entry.action,
            entry.object_type,
            entry.object_id,
            None if entry.before is None else canonical_json(entry.before),
            None if entry.after is None else canonical_json(entry.after),
            entry.request_id,
            entry.prev_hash,
            entry.hash,
        ]


def count(filters: AuditFilter) -> int:
    query = filters.apply(sa.select(sa.func.count()).select_from(AuditEntry))
    return db.session.execute(query).scalar_one()


tabular.register(
    "audit",
    filters=filters_from,
    columns=columns,
    rows=rows,
    count=count,
    filter_names=FILTER_ARGS,
    title=lambda: _("Audit log"),
    permission="audit.export",
)
