"""Checklists: the items a state asks people to tick before an action (e.g. a clearance
checklist: settle the account, end services, archive data, revoke access).

The items live in the spec (`workflow.states.<state>.checklist`), so a case runs on the
checklist of the version it started under. Ticks are kept per state and round: a case that
re-enters a state (after a `return`) starts that state's checklist afresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from formflow import audit, rules
from formflow.auth.models import User
from formflow.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from formflow.extensions import db, utcnow
from formflow.forms.texts import localized
from formflow.processes.form_rules import truthy, version_tables
from formflow.records import uploads
from formflow.records.models import Attachment
from formflow.rules.errors import RuleError
from formflow.workflows.models import ChecklistTick

log = logging.getLogger(__name__)

#: The longest note a tick keeps.
NOTE_LIMIT = 2000


@dataclass(frozen=True)
class ChecklistItemView:
    """One item of the case's current checklist, with its tick (if any) in this round."""

    id: str
    label: Any  # {"zh-CN": …, "en": …} (or a plain string)
    required: bool
    evidence: bool
    done: bool = False
    note: str = ""
    attachment_token: str | None = None
    user: User | None = None
    at: datetime | None = None

    def label_text(self, language: str | None = None) -> str:
        """The label in the user's language (or `language`), falling back to zh-CN."""
        return localized(self.label, language) or self.id


# --- reading ---------------------------------------------------------------------------


def spec_items(case) -> list[dict]:
    """The checklist items of the case's current state in the case's own version."""
    from formflow.workflows import engine

    checklist = engine.state_spec(case).get("checklist")
    if not isinstance(checklist, list):
        return []
    return [item for item in checklist if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _ticks(case) -> dict[str, ChecklistTick]:
    if case.id is None:
        return {}
    rows = db.session.execute(
        sa.select(ChecklistTick).where(
            ChecklistTick.case_id == case.id,
            ChecklistTick.state == case.state,
            ChecklistTick.round == case.state_round,
        )
    ).scalars()
    return {row.item_id: row for row in rows}


class _Required:
    """Decides `required` for the items of one case, preparing the rule context once."""

    def __init__(self, case):
        self.case = case
        self._context = None

    def __call__(self, item: dict) -> bool:
        required = item.get("required", True)
        if isinstance(required, bool):
            return required
        if not isinstance(required, dict | list):
            return bool(required)
        if self._context is None:
            from formflow.workflows import engine

            self._context = rules.prepare(
                engine.rule_context_for(self.case), version_tables(self.case.version)
            )
        try:
            return truthy(rules.compile(required).evaluate(self._context, rule_id=f"checklist.{item['id']}"))
        except RuleError as error:
            # A rule that cannot decide must not let an item be skipped: it stays required.
            log.warning(
                "case %s checklist item %s: required rule failed: %s", self.case.id, item["id"], error
            )
            return True


def items(case) -> list[ChecklistItemView]:
    """The case's checklist for its current state and round, in the spec's order."""
    found = spec_items(case)
    if not found:
        return []
    ticks = _ticks(case)
    user_ids = {tick.user_id for tick in ticks.values() if tick.user_id is not None}
    users = (
        {u.id: u for u in db.session.execute(sa.select(User).where(User.id.in_(user_ids))).scalars()}
        if user_ids
        else {}
    )
    required = _Required(case)
    views = []
    for item in found:
        tick = ticks.get(item["id"])
        views.append(
            ChecklistItemView(
                id=item["id"],
                label=item.get("label") or item["id"],
                required=required(item),
                evidence=item.get("evidence") is True,
                done=bool(tick and tick.done),
                note=tick.note if tick else "",
                attachment_token=tick.attachment_token if tick else None,
                user=users.get(tick.user_id) if tick else None,
                at=tick.at if tick else None,
            )
        )
    return views


def missing(case) -> list[str]:
    """The ids of the required items not ticked yet (empty: the checklist is complete)."""
    return [item.id for item in items(case) if item.required and not item.done]


def missing_labels(case) -> list[str]:
    """The labels (in the user's language) of the required items not ticked yet."""
    return [item.label_text() for item in items(case) if item.required and not item.done]


def evidence_tokens(case) -> set[str]:
    """The tokens of the files the case's checklist ticks hold as evidence (in any state and
    round): they stay on the case whatever its data names (formflow.records.changes)."""
    query = sa.select(ChecklistTick.attachment_token).where(
        ChecklistTick.case_id == case.id, ChecklistTick.attachment_token.is_not(None)
    )
    return set(db.session.execute(query).scalars())


def can_tick(case, user) -> bool:
    """Whether `user` may tick the case's checklist: whoever may act on its state."""
    from formflow.workflows import engine

    if user is None or not getattr(user, "is_authenticated", False) or case.closed_at is not None:
        return False
    return bool(spec_items(case)) and engine.can_act(case, user, None)


# --- writing ---------------------------------------------------------------------------


def _item_for(case, item_id: str, user) -> dict:
    """The spec item `item_id` of the case's current state, if `user` may tick it."""
    item = next((i for i in spec_items(case) if i["id"] == item_id), None)
    if item is None:
        raise NotFound(_("This step has no checklist item “%(item)s”.", item=item_id))
    if user is None or not getattr(user, "is_authenticated", False):
        raise Unauthorized()
    if case.closed_at is not None:
        raise Conflict(_("The case is closed; its checklist can no longer change."))
    if not can_tick(case, user):
        raise Forbidden(_("Only the people who act on this step may tick its checklist."))
    return item


def store_evidence(case, item_id: str, file: FileStorage, user) -> str:
    """Store an uploaded file as evidence for an item and return its attachment token (then
    pass it to `tick`). Anyone who may tick may upload here, unlike a case's form fields
    (which only the case's editors fill in)."""
    _item_for(case, item_id, user)
    field = f"checklist:{case.state}/{item_id}"
    return uploads.new_attachment(file, field=field, actor=user, case_id=case.id).token


def _evidence_attachment(case, token: str, user) -> Attachment:
    """The attachment behind `token` if it may serve as this case's evidence: a file on this
    case, or one `user` uploaded that is on no case yet."""
    attachment = uploads.by_tokens([token]).get(token)
    if attachment is None:
        message = _("No such uploaded file; upload it again.")
    elif attachment.case_id is not None and attachment.case_id != case.id:
        message = _("This file belongs to another case; upload it again.")
    elif attachment.case_id is None and attachment.uploaded_by_id != user.id:
        message = _("This file was uploaded by someone else; upload it again.")
    elif uploads.expired(attachment):
        message = _("This upload has expired; upload it again.")
    else:
        return attachment
    raise Invalid([{"pointer": "/attachment", "message": message}])


def tick(
    case,
    item_id: str,
    user,
    *,
    done: bool = True,
    note: str = "",
    attachment_token: str | None = None,
) -> ChecklistItemView:
    """Tick (or with `done=False` untick) one item of the case's current checklist.

    NotFound for an item the state does not have, Forbidden unless `user` may act on the
    state, Conflict on a closed case, Invalid when an item needing evidence gets neither a
    note nor an attachment. Recorded in the audit log; the caller commits."""
    item = _item_for(case, item_id, user)
    note = (note or "").strip()
    errors = []
    if len(note) > NOTE_LIMIT:
        errors.append({"pointer": "/note", "message": _("At most %(n)d characters.", n=NOTE_LIMIT)})
    attachment = None
    if attachment_token and done:
        try:
            attachment = _evidence_attachment(case, attachment_token, user)
        except Invalid as invalid:
            errors += invalid.errors
    elif done and item.get("evidence") is True and not note:
        message = _("This item needs evidence: add a note or attach a file.")
        errors.append({"pointer": "/note", "message": message})
    if errors:
        raise Invalid(errors)
    if attachment is not None and attachment.case_id is None:
        attachment.case_id = case.id  # the evidence is now on the case, readable with it
        db.session.expire(case, ["attachments"])

    row = _ticks(case).get(item_id)
    before = _snapshot(row) if row is not None else None
    if row is None:
        row = ChecklistTick(case_id=case.id, state=case.state, round=case.state_round, item_id=item_id)
    row.done, row.note, row.user_id, row.at = done, note, user.id, utcnow()
    row.attachment_token = attachment.token if attachment is not None else None
    _save(row)
    audit.record(
        "checklist.tick" if done else "checklist.untick",
        "case",
        case.id,
        before=before,
        after=_snapshot(row),
        actor=user,
    )
    return next(view for view in items(case) if view.id == item_id)


def _save(row: ChecklistTick) -> None:
    """Insert or update the tick. Two people ticking the same item at the same moment: the
    second insert breaks the unique key and becomes an update of the first one's row."""
    if row.id is not None:
        db.session.flush()
        return
    db.session.add(row)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        existing = db.session.execute(
            sa.select(ChecklistTick).where(
                ChecklistTick.case_id == row.case_id,
                ChecklistTick.state == row.state,
                ChecklistTick.round == row.round,
                ChecklistTick.item_id == row.item_id,
            )
        ).scalar_one()
        for name in ("done", "note", "user_id", "at", "attachment_token"):
            setattr(existing, name, getattr(row, name))
        db.session.flush()


def _snapshot(row: ChecklistTick) -> dict:
    return {
        "state": row.state,
        "round": row.round,
        "item": row.item_id,
        "done": row.done,
        "note": row.note,
        "attachment": row.attachment_token,
    }
