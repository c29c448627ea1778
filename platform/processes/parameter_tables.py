"""A process's parameter tables, where they meet process versions: saving rows of its own
table as a draft, which versions read a global table, and a draft that adopts the newest
global tables. formflow.tables (below processes) knows no ProcessVersion; these do."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from formflow import audit
from formflow.auth.current import acting_user
from formflow.errors import Conflict
from formflow.extensions import db
from formflow.processes import services as processes
from formflow.processes.models import Process, ProcessVersion
from formflow.tables import get_global_table, process_table, referenced_tables, spec_tables
from formflow.tables.models import ProcessTablePin


def save_process_table(key: str, table_key: str, rows: list[list], *, base_sha256: str, actor=None):
    """Store new rows for a process table as a draft (the latest draft is replaced, a
    published version is never changed: see processes.services.new_draft_from_edit).

    `base_sha256` is the version the editor started from: another change since is a
    Conflict. Invalid (pointers into the spec, `/tables/0/rows/2/1`) when the result is bad."""
    latest = processes.latest_version(key)
    if latest.sha256 != base_sha256:
        message = _(
            "The process was changed meanwhile (now version %(number)d); reload the table.",
            number=latest.number,
        )
        raise Conflict(message)
    index, _table = process_table(latest, table_key)
    spec = copy.deepcopy(latest.spec)
    spec["tables"][index]["rows"] = rows
    return processes.new_draft_from_edit(key, spec, actor=actor if actor is not None else acting_user())


@dataclass(frozen=True)
class TableUse:
    """A process version that reads a global table, and which version of it."""

    process: Process
    version: ProcessVersion
    table_number: int | None  # None: not pinned (a draft reads the newest)


def table_uses(key: str) -> list[TableUse]:
    """The published and draft process versions that read global table `key`."""
    table = get_global_table(key)
    pins = {
        pin.process_version_id: pin.table_version.number
        for pin in db.session.execute(
            sa.select(ProcessTablePin).where(ProcessTablePin.table_id == table.id)
        ).scalars()
    }
    versions = db.session.execute(
        sa.select(ProcessVersion)
        .where(ProcessVersion.status.in_(("published", "draft")))
        .order_by(ProcessVersion.process_id, ProcessVersion.number)
    ).scalars()
    uses = []
    for found in versions:
        referenced = referenced_tables(found.spec)
        own = {t["key"] for _i, t in spec_tables(found.spec)}
        reads = found.id in pins or ((referenced is None or key in referenced) and key not in own)
        if reads:
            number = pins.get(found.id)
            uses.append(TableUse(found.process, found, number))
    return uses


def _flush_or_conflict() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict() from None


def adopt_global_tables(process_key: str, *, actor=None) -> ProcessVersion:
    """A draft of `process_key` that reads the newest global tables: the latest draft when
    there is one, else a new draft with the published spec unchanged (publishing it pins
    the newest global table versions)."""
    actor = actor if actor is not None else acting_user()
    latest = processes.latest_version(process_key)
    if latest.status == "draft":
        return latest
    created = ProcessVersion(
        process=latest.process,
        number=latest.number + 1,
        spec=copy.deepcopy(latest.spec),
        sha256=latest.sha256,
        status="draft",
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(created)
    _flush_or_conflict()
    audit.record(
        "process_version.create",
        "process_version",
        created.id,
        after={
            "key": process_key,
            "number": created.number,
            "status": created.status,
            "sha256": created.sha256,
            "changes": [_("The same spec, reading the newest global tables.")],
        },
        actor=actor,
    )
    return created
