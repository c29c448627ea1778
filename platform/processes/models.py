"""A Process (key, names) and its versions; each version holds one whole spec as JSON."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.extensions import db, utcnow

VERSION_STATUSES = ("draft", "published", "retired")
#: what people read for a version's status
VERSION_STATUS_LABELS = {"draft": _l("draft"), "published": _l("published"), "retired": _l("retired")}
#: what people read for a process category (the meta-schema's enum of `category`)
CATEGORY_LABELS = {
    "deduction": _l("Deduction"),
    "prepaid": _l("Prepaid balance"),
    "management_fee": _l("Management fee"),
    "payment": _l("Payment"),
    "offboarding": _l("Offboarding"),
    "other": _l("Other"),
}


def category_label(category: str | None) -> str:
    """A category in the user's language (an unknown one as it is)."""
    return str(CATEGORY_LABELS.get(category or "", category or ""))


class Process(db.Model):
    __tablename__ = "process"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    versions: Mapped[list[ProcessVersion]] = relationship(
        back_populates="process", order_by="ProcessVersion.number", lazy="select"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh

    @property
    def category_label(self) -> str:
        return category_label(self.category)


class ProcessVersion(db.Model):
    """One version of a process's spec. At most one per process is published at a time."""

    __tablename__ = "process_version"
    __table_args__ = (
        UniqueConstraint("process_id", "number", name="uq_process_version_process_id_number"),
        # The database itself guarantees "exactly one published version per process".
        Index(
            "uq_process_version_one_published",
            "process_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id"), index=True)
    number: Mapped[int]
    spec: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    process: Mapped[Process] = relationship(back_populates="versions", lazy="joined")

    @property
    def status_label(self) -> str:
        return str(VERSION_STATUS_LABELS.get(self.status, self.status))


#: what made a draft revision, as people read it
REVISION_SOURCES = {
    "import": _l("import"),
    "json": _l("JSON editor"),
    "checklist": _l("checklist editor"),
    "rollback": _l("new draft from an older version"),
    "undo": _l("undo"),
    "gallery": _l("template gallery"),
    "workflow": _l("workflow editor"),
    "form": _l("form editor"),
    "table": _l("table editor"),
}


class DraftRevision(db.Model):
    """Every save of a draft version, in order: the spec as it was saved, by whom, from which
    editor. Undo restores an earlier one as a new revision, so no save is ever lost."""

    __tablename__ = "process_draft_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    number: Mapped[int]
    spec: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (UniqueConstraint("version_id", "number"),)

    @property
    def source_label(self) -> str:
        return str(REVISION_SOURCES.get(self.source, self.source))
