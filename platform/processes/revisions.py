"""The revisions of a draft version: every save appended (never changed), listed newest first,
and undo: an earlier revision saved again as the newest, so what was undone stays too."""

from __future__ import annotations

import copy
from datetime import UTC

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import gettext as _

from formflow.auth.models import User
from formflow.extensions import db
from formflow.processes.models import DraftRevision, ProcessVersion


def record(version: ProcessVersion, *, actor=None, source: str = "import") -> DraftRevision:
    """Append `version`'s spec as its next revision (the version row is locked by the caller)."""
    last = db.session.execute(
        sa.select(sa.func.max(DraftRevision.number)).where(DraftRevision.version_id == version.id)
    ).scalar()
    revision = DraftRevision(
        version_id=version.id,
        number=(last or 0) + 1,
        spec=copy.deepcopy(version.spec),
        sha256=version.sha256,
        source=source,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def of(version: ProcessVersion) -> list[DraftRevision]:
    """The version's revisions, newest first."""
    return list(
        db.session.execute(
            sa.select(DraftRevision)
            .where(DraftRevision.version_id == version.id)
            .order_by(DraftRevision.number.desc())
        ).scalars()
    )


def get(version: ProcessVersion, number: int) -> DraftRevision | None:
    return db.session.execute(
        sa.select(DraftRevision).where(DraftRevision.version_id == version.id, DraftRevision.number == number)
    ).scalar_one_or_none()


def author(revision: DraftRevision | None) -> str:
    user = db.session.get(User, revision.created_by_id) if revision and revision.created_by_id else None
    return user.label if user is not None else _("the system")


def changed_meanwhile(latest: ProcessVersion) -> str:
    """Why a save was refused: who saved the version since the editor opened it, and when."""
    newest = next(iter(of(latest)), None)
    if newest is None:
        return _("Version %(number)d was changed meanwhile; review it again.", number=latest.number)
    return _(
        "%(user)s saved version %(number)d at %(at)s, after you opened it: your changes were not saved. "
        "Copy them, reload the page and make them again.",
        user=author(newest),
        number=latest.number,
        at=format_datetime(newest.created_at.replace(tzinfo=UTC), "short"),
    )
