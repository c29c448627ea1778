"""Two versions of a process side by side, before publishing: what changed (the semantic diff),
how many running cases stay on each version (publishing never moves them), and whether the
newer version's own tests pass. Reads only."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from formflow.extensions import db
from formflow.processes import services
from formflow.processes.models import ProcessVersion
from formflow.processes.process_queries import VersionDiff, published_of, version_diff
from formflow.records.models import Case


@dataclass(frozen=True)
class Comparison:
    diff: VersionDiff
    #: [(version number, cases not closed)], the versions that have any, oldest first
    running: list[tuple[int, int]]
    #: the failing expectations of the newer version's tests ([] when all pass)
    test_failures: list[dict]
    tests: int


def _default_from(key: str) -> int:
    """The published version, else the one before the latest (a process never published)."""
    published = published_of(services.get_process(key))
    return published.number if published is not None else max(services.latest_version(key).number - 1, 1)


def compare(key: str, from_number: int | None, to_number: int | None) -> Comparison:
    """NotFound (naming it) for a process or version that does not exist. Defaults: the
    published version (`_default_from`) against the latest (as `version_diff`)."""
    diff = version_diff(key, from_number or _default_from(key), to_number or None)
    spec = diff.new.spec
    return Comparison(
        diff, running_cases(diff.new.process_id), services.run_spec_tests(spec), len(spec.get("tests") or [])
    )


def running_cases(process_id: int) -> list[tuple[int, int]]:
    rows = db.session.execute(
        sa.select(ProcessVersion.number, sa.func.count(Case.id))
        .join(Case, Case.version_id == ProcessVersion.id)
        .where(ProcessVersion.process_id == process_id, Case.closed_at.is_(None))
        .group_by(ProcessVersion.number)
        .order_by(ProcessVersion.number)
    ).all()
    return [(number, count) for number, count in rows]
