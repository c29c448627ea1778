"""Global parameter tables (shared by every process) and the versions processes pin.

A GlobalTable is edited by adding a GlobalTableVersion; versions are never changed or
deleted. When a process version is published, the global tables its rules read are pinned
(one ProcessTablePin per table), so its cases keep those values whatever is edited later.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.extensions import db, utcnow


class GlobalTable(db.Model):
    __tablename__ = "global_table"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The name rules `lookup` (a process table with the same key shadows it).
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    versions: Mapped[list[GlobalTableVersion]] = relationship(
        back_populates="table", order_by="GlobalTableVersion.number", lazy="select"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


class GlobalTableVersion(db.Model):
    """One state of a global table: columns (`[{"name", "type"}]`), key column and rows."""

    __tablename__ = "global_table_version"
    __table_args__ = (UniqueConstraint("table_id", "number", name="uq_global_table_version_table_id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("global_table.id"), index=True)
    number: Mapped[int]
    key_column: Mapped[str] = mapped_column(String(80))
    columns: Mapped[list] = mapped_column(JSON)
    rows: Mapped[list] = mapped_column(JSON)
    #: Of the canonical JSON of {keyColumn, columns, rows}: equal content, equal hash.
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    table: Mapped[GlobalTable] = relationship(back_populates="versions", lazy="joined")

    def as_table(self) -> dict:
        """In the shape of a spec's table (`{"key", "keyColumn", "columns", "rows"}`)."""
        return {
            "key": self.table.key,
            "keyColumn": self.key_column,
            "columns": self.columns,
            "rows": self.rows,
        }


class ProcessTablePin(db.Model):
    """Process version × global table: the version of the table its rules read.

    Written once, when the process version is first published (re-publishing a retired
    version keeps its pins, so a roll-back really goes back)."""

    __tablename__ = "process_table_pin"

    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("global_table.id"), primary_key=True)
    table_version_id: Mapped[int] = mapped_column(ForeignKey("global_table_version.id"), index=True)

    table_version: Mapped[GlobalTableVersion] = relationship(lazy="joined")
