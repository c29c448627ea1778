"""Reading processes and their versions: find one, the latest and the published version,
the list page, a process's history and the export of a spec. Nothing here writes."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import defer

from formflow.auth.models import User
from formflow.errors import NotFound
from formflow.extensions import db
from formflow.processes.models import Process, ProcessVersion


@dataclass(frozen=True)
class ProcessRow:
    """A line of the process list: the process and the numbers of its notable versions."""

    process: Process
    published_number: int | None
    draft_number: int | None
    latest_number: int


def find_process(key: str, *, lock: bool = False) -> Process | None:
    query = sa.select(Process).where(Process.key == key)
    if lock:
        # Imports and publishes of one process take turns (PostgreSQL row lock; SQLite's
        # BEGIN IMMEDIATE already serialises writers).
        query = query.with_for_update()
    return db.session.execute(query).scalar_one_or_none()


def get_process(key: str) -> Process:
    process = find_process(key)
    if process is None:
        raise NotFound(_("No process with key %(key)s.", key=key))
    return process


def latest_of(process: Process) -> ProcessVersion:
    return db.session.execute(
        sa.select(ProcessVersion)
        .where(ProcessVersion.process_id == process.id)
        .order_by(ProcessVersion.number.desc())
        .limit(1)
    ).scalar_one()


def published_of(process: Process) -> ProcessVersion | None:
    return db.session.execute(
        sa.select(ProcessVersion).where(
            ProcessVersion.process_id == process.id, ProcessVersion.status == "published"
        )
    ).scalar_one_or_none()


def latest_version(key: str) -> ProcessVersion:
    return latest_of(get_process(key))


def published_version(key: str) -> ProcessVersion:
    """The version new cases of `key` start on; NotFound when none is published."""
    found = published_of(get_process(key))
    if found is None:
        raise NotFound(_("Process %(key)s has no published version.", key=key))
    return found


def version(key: str, number: int) -> ProcessVersion:
    found = db.session.execute(
        sa.select(ProcessVersion)
        .join(Process, ProcessVersion.process_id == Process.id)
        .where(Process.key == key, ProcessVersion.number == number)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("Process %(key)s has no version %(number)d.", key=key, number=number))
    return found


def published_processes() -> list[tuple[Process, ProcessVersion]]:
    """Every process that has a published version, with that version, by key."""
    rows = db.session.execute(
        sa.select(Process, ProcessVersion)
        .join(ProcessVersion, ProcessVersion.process_id == Process.id)
        .where(ProcessVersion.status == "published")
        .order_by(Process.key)
    )
    return [(process, published) for process, published in rows]


def page(*, after_key: str | None = None, size: int = 50) -> tuple[list[ProcessRow], str | None]:
    """Processes by key, keyset-paginated, with their published / draft / latest version numbers."""
    query = sa.select(Process).order_by(Process.key).limit(size + 1)
    if after_key:
        query = query.where(Process.key > after_key)
    processes = list(db.session.execute(query).scalars())
    next_key = processes[size - 1].key if len(processes) > size else None
    processes = processes[:size]
    numbers: dict[int, dict] = {process.id: {} for process in processes}
    if processes:
        rows = db.session.execute(
            sa.select(ProcessVersion.process_id, ProcessVersion.number, ProcessVersion.status).where(
                ProcessVersion.process_id.in_(numbers)
            )
        )
        for process_id, number, status in rows:
            found = numbers[process_id]
            found[status] = max(found.get(status, 0), number)
            found["latest"] = max(found.get("latest", 0), number)
    rows = [
        ProcessRow(
            process,
            numbers[process.id].get("published"),
            numbers[process.id].get("draft"),
            numbers[process.id].get("latest", 0),
        )
        for process in processes
    ]
    return rows, next_key


@dataclass(frozen=True)
class VersionRow:
    version: ProcessVersion
    created_by: str | None
    published_by: str | None


def history(key: str) -> list[VersionRow]:
    """A process's versions, newest first, with who created and published each (specs not loaded)."""
    process = get_process(key)
    versions = list(
        db.session.execute(
            sa.select(ProcessVersion)
            .options(defer(ProcessVersion.spec))
            .where(ProcessVersion.process_id == process.id)
            .order_by(ProcessVersion.number.desc())
        ).scalars()
    )
    user_ids = {v.created_by_id for v in versions} | {v.published_by_id for v in versions}
    user_ids.discard(None)
    labels = {}
    if user_ids:
        for user in db.session.execute(sa.select(User).where(User.id.in_(user_ids))).scalars():
            labels[user.id] = user.label
    return [VersionRow(v, labels.get(v.created_by_id), labels.get(v.published_by_id)) for v in versions]


def export_spec(key: str, number: int | None = None) -> dict:
    """A version's spec (the published one by default, else the latest); re-importing it
    yields the same sha256."""
    if number is not None:
        chosen = version(key, number)
    else:
        process = get_process(key)
        chosen = published_of(process) or latest_of(process)
    return copy.deepcopy(chosen.spec)


@dataclass(frozen=True)
class VersionDiff:
    """Two versions of one process and what changed from the first to the second."""

    old: ProcessVersion
    new: ProcessVersion
    changes: list[str]


def version_diff(key: str, from_number: int | None = None, to_number: int | None = None) -> VersionDiff:
    """What changed from version `from_number` (default: the published one) to `to_number`
    (default: the latest, normally the draft being edited); NotFound naming what is missing."""
    from formflow.processes.changes import describe_changes

    old = version(key, from_number) if from_number is not None else published_version(key)
    new = version(key, to_number) if to_number is not None else latest_version(key)
    return VersionDiff(old, new, describe_changes(old.spec, new.spec))
