"""Changing a case's data: storing it (audited field by field, its search text refreshed),
putting the files it names on the case, and the two changes the workflow engine makes —
data sent with an action, and the check of a submission when a case leaves its form step."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator

import sqlalchemy as sa

from formflow import audit
from formflow.extensions import db
from formflow.records import uploads
from formflow.records.checking import apply_case_rules, checked
from formflow.records.models import Attachment, Case

#: The tokens of the files a case holds besides those its data names (a checklist's evidence).
EvidenceOf = Callable[[Case], Iterable[str]]


def check_submission(case: Case, actor, now, *, evidence_of: EvidenceOf) -> None:
    """The case leaves its form step, whichever button, page or API call moves it on: its
    data must be a complete, valid submission (the schema with `required`, every rule,
    attachments), exactly as the form's Submit demands. Invalid otherwise (nothing moves)."""
    previous = case.data or {}
    data, outcome = apply_case_rules(
        case.version, case.customer, case, actor, previous, previous, submit=True
    )
    attachments = checked(
        case.version, data, submit=True, case=case, actor=actor, input_errors=(), outcome=outcome
    )
    if data != previous:
        store_data(case, data, actor)
    link_attachments(case, attachments, evidence_of=evidence_of)
    if case.submitted_at is None:
        case.submitted_at = now
    record_submit(case, actor)


def change_data(case: Case, data: dict, actor, *, evidence_of: EvidenceOf) -> None:
    """Data sent with a workflow action: merged into the case's data and checked like a
    save (the action then checks a submission if it leaves the form step); the change is
    audited with its before and after. Which fields the step may change is the engine's
    to check first."""
    previous = case.data or {}
    merged, outcome = apply_case_rules(
        case.version, case.customer, case, actor, {**previous, **data}, previous, submit=False
    )
    attachments = checked(
        case.version, merged, submit=False, case=case, actor=actor, input_errors=(), outcome=outcome
    )
    store_data(case, merged, actor)
    link_attachments(case, attachments, evidence_of=evidence_of)


def record_submit(case: Case, actor) -> None:
    """The audit log's `case.submit` entry (formflow.cases.services.submitter reads it)."""
    after = {"state": case.state, "submitted_at": case.submitted_at}
    audit.record("case.submit", "case", case.id, before={"state": "draft"}, after=after, actor=actor)


def store_data(case: Case, data: dict, actor) -> None:
    """Replace the case's data, auditing the fields that changed (before and after)."""
    before = case.data or {}
    changed = sorted(
        key
        for key in set(before) | set(data)
        if key not in before or key not in data or before[key] != data[key]
    )
    case.data = copy.deepcopy(data)
    case.search_text = search_text(data)
    if changed:
        audit.record(
            "case.data",
            "case",
            case.id,
            before={"state": case.state, "data": {key: before[key] for key in changed if key in before}},
            after={"state": case.state, "data": {key: data[key] for key in changed if key in data}},
            actor=actor,
        )


def search_text(data) -> str:
    """The lower-cased string values of the data, one a line (tokens left out)."""

    def strings(value) -> Iterator[str]:
        if isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)
        elif isinstance(value, str) and value.strip() and not uploads.TOKEN.match(value):
            yield value.strip().lower()

    return "\n".join(strings(data))


def linked(case: Case) -> list[Attachment]:
    """The files on the case (in its data or held as evidence)."""
    if case.id is None:
        return []
    return list(db.session.execute(sa.select(Attachment).where(Attachment.case_id == case.id)).scalars())


def link_attachments(case: Case, attachments: list[Attachment], *, evidence_of: EvidenceOf) -> None:
    """Put the referenced files on the case; files a draft no longer refers to go back
    to their uploader (visible to them alone, and deleted by the orphan clean-up), so a case
    shows only its evidence. A checklist's evidence is not in the data, and stays: the tokens
    `evidence_of(case)` gives (formflow.workflows.checklists.evidence_tokens)."""
    keep = {a.id for a in attachments}
    on_case = linked(case)
    evidence = set(evidence_of(case)) if on_case else set()
    for attachment in on_case:
        if attachment.id in keep or attachment.token in evidence or attachment.field.startswith("checklist:"):
            continue
        attachment.case_id = None
    for attachment in attachments:
        attachment.case_id = case.id
    db.session.flush()
    db.session.expire(case, ["attachments"])
