"""Processes and their versions: import, check, publish, export. The only door to the data
(the reading half lives in process_queries.py and is re-exported here).

A process is identified by its spec's `key`. Its versions are numbered 1, 2, ...; at most
one is published (the database enforces it), only the latest can be a draft. Importing a
spec that differs from the latest version updates that version when it is a draft and
adds a new draft otherwise, so a published spec is never changed under running cases.
Services flush; the caller (request, CLI command, job) commits.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified

from formflow import audit
from formflow.auth.current import acting_user
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.processes.changes import describe_changes
from formflow.processes.models import VERSION_STATUS_LABELS, Process, ProcessVersion
from formflow.processes.process_queries import (
    ProcessRow,
    VersionRow,
    export_spec,
    find_process,
    get_process,
    history,
    latest_of,
    latest_version,
    page,
    published_of,
    published_processes,
    published_version,
    version,
)
from formflow.processes.spec import (
    check_spec,
    ensure_valid,
    parse_spec_text,
    plain_spec,
    spec_sha256,
    spec_text,
)
from formflow.tables import pin_global_tables

__all__ = [
    "ImportResult",
    "ImportSummary",
    "ProcessRow",
    "VersionRow",
    "check_spec",
    "export_spec",
    "get_process",
    "history",
    "import_spec",
    "latest_version",
    "new_draft_from_edit",
    "page",
    "parse_spec_text",
    "preview_import",
    "publish",
    "published_processes",
    "published_version",
    "run_spec_tests",
    "spec_sha256",
    "spec_text",
    "version",
]


@dataclass(frozen=True)
class ImportSummary:
    """What importing a spec would do, worked out without writing anything.

    `action` is "create" (a new process, version 1), "update_draft" (the latest version is a
    draft and is replaced), "new_version" (a new draft after a published or retired one) or
    "unchanged". `base_number` is the version compared against (None for a new process).
    """

    key: str
    name: dict
    action: str
    version_number: int
    base_number: int | None = None
    base_status: str | None = None
    changes: list[str] = field(default_factory=list)
    base_sha256: str | None = None

    @property
    def base_status_label(self) -> str:
        return str(VERSION_STATUS_LABELS.get(self.base_status or "", self.base_status or ""))

    @property
    def base(self) -> str:
        """Identifies what the summary was computed against, to notice a change before confirming."""
        return f"{self.base_number}:{self.base_sha256}" if self.base_number else ""

    @property
    def created_process(self) -> bool:
        return self.action == "create"

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


@dataclass(frozen=True)
class ImportResult:
    process: Process
    version: ProcessVersion
    created_process: bool
    changed: bool
    changes: list[str]
    action: str = "unchanged"


# --- writing -------------------------------------------------------------------------------


def _actor(actor):
    return actor if actor is not None else acting_user()


def _snapshot(found: ProcessVersion) -> dict:
    return {
        "key": found.process.key,
        "number": found.number,
        "status": found.status,
        "sha256": found.sha256,
    }


def _same_text(spec: dict, other: dict) -> bool:
    """Equal including key order: property order is the order of the form's fields."""
    return json.dumps(spec, ensure_ascii=False) == json.dumps(other, ensure_ascii=False)


def _is_unchanged(latest: ProcessVersion, spec: dict, sha256: str) -> bool:
    return latest.sha256 == sha256 and _same_text(latest.spec, spec)


def _mirror_names(process: Process, spec: dict) -> None:
    """The process row shows the names and category of the version people use."""
    process.category = spec["category"]
    process.name_zh = spec["name"]["zh-CN"]
    process.name_en = spec["name"]["en"]


def _flush_or_conflict() -> None:
    """Flush in a savepoint: losing a race to a unique constraint is a Conflict, not a crash."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict() from None


def preview_import(spec: dict) -> ImportSummary:
    """What `import_spec(spec)` would do; Invalid (with pointers) when the spec is bad."""
    spec = ensure_valid(spec)
    process = find_process(spec["key"])
    if process is None:
        return ImportSummary(spec["key"], spec["name"], "create", 1)
    latest = latest_of(process)
    if _is_unchanged(latest, spec, spec_sha256(spec)):
        return ImportSummary(
            spec["key"],
            spec["name"],
            "unchanged",
            latest.number,
            latest.number,
            latest.status,
            [],
            latest.sha256,
        )
    action, number = (
        ("update_draft", latest.number) if latest.status == "draft" else ("new_version", latest.number + 1)
    )
    changes = describe_changes(latest.spec, spec)
    return ImportSummary(
        spec["key"], spec["name"], action, number, latest.number, latest.status, changes, latest.sha256
    )


def _revise(target: ProcessVersion, actor, source: str) -> None:
    """Append the draft's spec as it is now to its revisions (formflow.processes.revisions)."""
    from formflow.processes import revisions

    revisions.record(target, actor=actor, source=source)


def _create_process(spec: dict, sha256: str, actor, source: str = "import") -> ImportResult:
    process = Process(key=spec["key"], created_by_id=getattr(actor, "id", None))
    _mirror_names(process, spec)
    created = ProcessVersion(
        process=process,
        number=1,
        spec=copy.deepcopy(spec),
        sha256=sha256,
        status="draft",
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add_all([process, created])
    _flush_or_conflict()
    after = {
        "key": process.key,
        "category": process.category,
        "name_zh": process.name_zh,
        "name_en": process.name_en,
    }
    audit.record("process.create", "process", process.id, after=after, actor=actor)
    audit.record(
        "process_version.create", "process_version", created.id, after=_snapshot(created), actor=actor
    )
    _revise(created, actor, source)
    return ImportResult(process, created, True, True, [], "create")


def import_spec(
    spec: dict, *, actor=None, source: str = "import", expected_sha256: str | None = None
) -> ImportResult:
    """Store `spec` as the latest draft of its process (creating the process when new); each
    save is a revision of the draft (`source`: the editor it came from).

    Checked first: Invalid with pointers and nothing written when bad. Idempotent: a spec
    identical to the latest version changes nothing (`changed` False). `expected_sha256`: the
    latest version the editor started from; Conflict (nothing written) when someone saved
    since, so two admins editing one draft never overwrite each other silently.
    """
    spec = ensure_valid(spec)
    actor = _actor(actor)
    sha256 = spec_sha256(spec)
    process = find_process(spec["key"], lock=True)
    if process is None:
        return _create_process(spec, sha256, actor, source)
    latest = latest_of(process)
    if expected_sha256 is not None and latest.sha256 != expected_sha256:
        from formflow.processes import revisions

        raise Conflict(revisions.changed_meanwhile(latest))
    if _is_unchanged(latest, spec, sha256):
        return ImportResult(process, latest, False, False, [], "unchanged")
    changes = describe_changes(latest.spec, spec)
    if latest.status == "draft":
        before = _snapshot(latest)
        latest.spec = copy.deepcopy(spec)
        flag_modified(latest, "spec")  # equal dicts in another key order are a change too
        latest.sha256 = sha256
        target, action = latest, "update_draft"
        _flush_or_conflict()
        audit.record(
            "process_version.update",
            "process_version",
            latest.id,
            before=before,
            after=_snapshot(latest) | {"changes": changes},
            actor=actor,
        )
    else:
        target = ProcessVersion(
            process=process,
            number=latest.number + 1,
            spec=copy.deepcopy(spec),
            sha256=sha256,
            status="draft",
            created_by_id=getattr(actor, "id", None),
        )
        action = "new_version"
        db.session.add(target)
        _flush_or_conflict()
        audit.record(
            "process_version.create",
            "process_version",
            target.id,
            after=_snapshot(target) | {"changes": changes},
            actor=actor,
        )
    if published_of(process) is None:
        _mirror_names(process, spec)
        _flush_or_conflict()
    _revise(target, actor, source)
    return ImportResult(process, target, False, True, changes, action)


def new_draft_from_edit(
    key: str, spec: dict, actor=None, *, source: str = "json", expected_sha256: str | None = None
) -> ImportResult:
    """Save an edited spec of process `key`: the latest draft is replaced, a published
    version stays as it is and the edit becomes a new draft. The key cannot change."""
    get_process(key)
    spec = plain_spec(spec)
    errors = check_spec(spec)
    if isinstance(spec, dict) and spec.get("key") != key and not any(e["pointer"] == "/key" for e in errors):
        message = _(
            "The key cannot change (it is %(key)s); import the spec as a new process instead.", key=key
        )
        errors.insert(0, {"pointer": "/key", "message": message})
    if errors:
        raise Invalid(errors)
    return import_spec(spec, actor=actor, source=source, expected_sha256=expected_sha256)


def run_spec_tests(spec: dict, *, tables: dict | None = None) -> list[dict]:
    """The spec's own `tests` (rules over each test's context, compared with what it expects):
    one `{"pointer": "/tests/<index>", "message"}` per failing expectation, saying what was
    expected and what came out; [] when all pass. `tables`: default the spec's and the
    global parameter tables."""
    from formflow.processes import spec_tests

    return spec_tests.run(spec, tables=tables)


def draft_from_version(
    key: str, number: int, *, actor=None, expected_sha256: str | None = None
) -> ImportResult:
    """Roll back by making a new draft whose spec is version `number`'s (published later like
    any draft). Conflict while another draft is being edited (it would be lost), or when
    `expected_sha256` (what the admin looked at) is not that version's."""
    process = find_process(key, lock=True)
    if process is None:
        raise NotFound(_("No process with key %(key)s.", key=key))
    source, latest = version(key, number), latest_of(process)
    if expected_sha256 is not None and source.sha256 != expected_sha256:
        raise Conflict(_("Version %(number)d was changed meanwhile; review it again.", number=number))
    if latest.status == "draft":
        raise Conflict(
            _(
                "Version %(draft)d is a draft being edited: publish or edit it before making a draft from "
                "version %(number)d.",
                draft=latest.number,
                number=number,
            )
        )
    if source.id == latest.id:
        raise Conflict(_("Version %(number)d is the latest version: edit it to make a draft.", number=number))
    return import_spec(copy.deepcopy(source.spec), actor=actor, source="rollback")


def restore_revision(
    key: str, number: int, *, actor=None, expected_sha256: str | None = None
) -> ImportResult:
    """Undo: revision `number` of the draft saved again as its newest revision (what is undone
    stays a revision too, so redo is restoring that one). Conflict when the latest version is no
    draft or someone saved since `expected_sha256`; NotFound for a revision that does not exist."""
    from formflow.processes import revisions

    latest = latest_version(key)
    if latest.status != "draft":
        raise Conflict(_("Process %(key)s has no draft to publish.", key=key))
    found = revisions.get(latest, number)
    if found is None:
        raise NotFound(
            _("Version %(version)d has no revision %(number)d.", version=latest.number, number=number)
        )
    return import_spec(copy.deepcopy(found.spec), actor=actor, source="undo", expected_sha256=expected_sha256)


def publish(
    key: str, *, actor=None, number: int | None = None, expected_sha256: str | None = None
) -> ProcessVersion:
    """Publish the latest draft (or version `number`, e.g. to roll back to a retired one).

    The spec is checked again and its tests run; the version published so far becomes
    retired in the same transaction. Conflict when there is nothing to publish, when the
    version is already published, or when `expected_sha256` (what the publisher looked at)
    no longer matches.
    """
    actor = _actor(actor)
    process = find_process(key, lock=True)
    if process is None:
        raise NotFound(_("No process with key %(key)s.", key=key))
    target = version(key, number) if number is not None else latest_of(process)
    if target.status == "published":
        raise Conflict(_("Version %(number)d is already published.", number=target.number))
    if number is None and target.status != "draft":
        raise Conflict(_("Process %(key)s has no draft to publish.", key=key))
    if expected_sha256 is not None and target.sha256 != expected_sha256:
        raise Conflict(_("Version %(number)d was changed meanwhile; review it again.", number=target.number))
    ensure_valid(target.spec)  # the checks may have grown stricter since the draft was saved
    failures = run_spec_tests(target.spec)
    if failures:
        raise Invalid(failures)
    previous = published_of(process)
    if previous is not None:
        before = _snapshot(previous)
        previous.status = "retired"
        # Retire first: the one-published-version index must never see two.
        _flush_or_conflict()
        audit.record(
            "process_version.retire",
            "process_version",
            previous.id,
            before=before,
            after=_snapshot(previous),
            actor=actor,
        )
    before = _snapshot(target)
    target.status = "published"
    target.published_at = utcnow()
    target.published_by_id = getattr(actor, "id", None)
    _mirror_names(process, target.spec)
    _flush_or_conflict()
    audit.record(
        "process_version.publish",
        "process_version",
        target.id,
        before=before,
        after=_snapshot(target),
        actor=actor,
    )
    pin_global_tables(target, actor=actor)  # the global parameter tables it reads: rules/tables.py
    return target
