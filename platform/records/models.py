"""A Case holds the submitted data (JSON) with the process version it runs on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formflow.auth.models import User
from formflow.customers.models import Customer
from formflow.exactjson import ExactJSON
from formflow.extensions import db, utcnow
from formflow.processes.models import Process, ProcessVersion
from formflow.processes.titles import state_title


class Case(db.Model):
    __tablename__ = "case_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    #: The workflow state (processes without a workflow: "draft" / "submitted").
    state: Mapped[str] = mapped_column(String(80), default="draft", index=True)
    #: Which stay in its current state the case is in (it grows at every transition, so a
    #: state entered again starts a new round: earlier approvals no longer count).
    state_round: Mapped[int] = mapped_column(default=1)
    state_entered_at: Mapped[datetime | None]
    #: A manager's reassignment: this user (rather than the state's assignee role) acts next.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: Set when the case reaches a final state.
    closed_at: Mapped[datetime | None]
    #: Exact JSON: money stays Decimal through the database.
    data: Mapped[dict] = mapped_column(ExactJSON, default=dict)
    #: Lower-cased text of the data's string values, for the list's text filter.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    #: Optimistic locking: an UPDATE that finds another value raises StaleDataError.
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}  # noqa: RUF012

    process: Mapped[Process] = relationship(lazy="joined")
    version: Mapped[ProcessVersion] = relationship(lazy="joined")
    customer: Mapped[Customer] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[created_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", order_by="Attachment.id", lazy="select"
    )

    @property
    def state_title(self) -> str:
        """The state as people read it: its title in the spec, in the user's language."""
        return state_title(self.version, self.state)


class Attachment(db.Model):
    """An uploaded file. Stored under the instance upload folder by its sha256, never
    served from static; the form field's value is `token`."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    field: Mapped[str] = mapped_column(String(500), default="")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: indexed: each upload sums its uploader's stored bytes (the quota)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case | None] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User | None] = relationship()
