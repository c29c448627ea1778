"""Cases: start one for a customer on a process's published version, edit its form, submit
it, and store a file sent to the API.

Error pointers are relative to the call's inputs as one document
`{"process", "customer", "data"}`: `/process`, `/customer`, `/data/amount`. The API
passes them through unchanged (they point into its request body); the UI strips `/data`
to put each message next to its field.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from formflow import audit
from formflow.auth.permissions import require
from formflow.cases.reading import SUBMIT_ACTION, resolve
from formflow.customers import statuses
from formflow.errors import Conflict, Forbidden, Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.forms.filetypes import content_type, read_head
from formflow.forms.parsing import file_problem, stream_size
from formflow.forms.texts import localized
from formflow.processes import services as processes
from formflow.records import uploads
from formflow.records.changes import link_attachments, linked, record_submit, search_text
from formflow.records.checking import apply_case_rules, checked, form_of
from formflow.records.models import Attachment, Case
from formflow.workflows import checklists, engine


def start(
    process_key: str,
    customer_code: str,
    data,
    *,
    submit: bool,
    actor,
    input_errors: Iterable[dict] = (),
) -> Case:
    """A new case on the process's published version: a draft, or submitted at once.

    Invalid (nothing stored) when the process or customer is unknown, or the data does
    not satisfy the form: a submission must be complete; a draft may leave required
    fields empty but every value it has must be right. `input_errors` are problems found
    while reading the input (e.g. "not a number" from the form), pointers relative to data.
    """
    require(actor, "cases.create")
    version, customer = resolve(process_key, customer_code)
    data, outcome = apply_case_rules(version, customer, None, actor, data, {}, submit=submit)
    attachments = checked(
        version, data, submit=submit, case=None, actor=actor, input_errors=input_errors, outcome=outcome
    )
    now = utcnow()
    case = Case(
        process=version.process,
        version=version,
        customer=customer,
        state="draft",
        data=copy.deepcopy(data),
        search_text=search_text(data),
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    has_workflow = engine.workflow_of(version) is not None
    if submit and not has_workflow:
        case.state, case.submitted_at = "submitted", now
    db.session.add(case)
    db.session.flush()
    link_attachments(case, attachments, evidence_of=checklists.evidence_tokens)
    audit.record("case.create", "case", case.id, after=snapshot(case), actor=actor)
    engine.start(case, actor, now)
    if submit:
        _submit(case, actor, now)
    return case


def _submit(case: Case, actor, now) -> None:
    """Submitting: with a workflow, its start state's `submit` action (which checks the
    submission, as every action leaving a form step does); without, a state. A customer the
    process refuses (spec `customers.refuse_status`) since the draft was made: Invalid."""
    refused = statuses.refusal(case.version.spec, case.customer, localized(case.version.spec.get("name")))
    if refused:
        raise Invalid([{"pointer": "/customer", "message": refused}])
    if engine.workflow_of(case.version) is not None:
        engine.perform(case, SUBMIT_ACTION, actor, now=now)
    else:
        record_submit(case, actor)


def ensure_editable(case: Case, actor) -> None:
    """Only a form step changes, and only by whom it is for (the author or an administrator
    at a draft; the step's assignee); a step that names no field changes nothing."""
    require(actor, "cases.read", case)
    if not engine.is_form_state(case) or engine.editable_fields(case) == []:
        if case.created_by_id == actor.id or "admin" in actor.role_names:
            raise Conflict(_("This case cannot be changed at its current step."))
        raise Forbidden()
    if not engine.may_edit(case, actor):
        raise Forbidden()


def save(
    case: Case,
    data,
    *,
    submit: bool,
    actor,
    input_errors: Iterable[dict] = (),
    lock_version: int | None = None,
) -> Case:
    """Replace a draft's data, and submit it when `submit`. `lock_version` is the version
    the editor saw: another save since then is a Conflict, not a silent overwrite."""
    ensure_editable(case, actor)
    if lock_version is not None and lock_version != case.lock_version:
        raise Conflict()
    try:
        _save(case, data, submit=submit, actor=actor, input_errors=input_errors)
    except StaleDataError:  # another save or action changed the case first (at any flush)
        raise Conflict() from None
    return case


def _save(case: Case, data, *, submit: bool, actor, input_errors) -> None:
    if isinstance(data, dict):  # the form shows them read-only: whatever is posted, they stay
        data = _keep_fixed_fields(case, data, case.data or {})
    data, outcome = apply_case_rules(case.version, case.customer, case, actor, data, case.data, submit=submit)
    attachments = checked(
        case.version, data, submit=submit, case=case, actor=actor, input_errors=input_errors, outcome=outcome
    )
    before = snapshot(case)
    case.data = copy.deepcopy(data)
    case.search_text = search_text(data)
    has_workflow = engine.workflow_of(case.version) is not None
    if submit and not has_workflow:
        case.state, case.submitted_at = "submitted", utcnow()
    link_attachments(case, attachments, evidence_of=checklists.evidence_tokens)
    db.session.flush()
    audit.record("case.update", "case", case.id, before=before, after=snapshot(case), actor=actor)
    if submit:
        _submit(case, actor, utcnow())


def _keep_fixed_fields(case: Case, data: dict, previous: dict) -> dict:
    """`data` with every field the step may not change as it was (a form step that names
    its fields shows the others read-only; absent means unchanged, not removed)."""
    if engine.editable_fields(case) is None:
        return data
    kept = {key: value for key, value in data.items() if engine.may_change(case, str(key))}
    kept.update({key: value for key, value in previous.items() if not engine.may_change(case, str(key))})
    return kept


def snapshot(case: Case) -> dict:
    """What the audit log keeps of a case at its creation and at each save."""
    return {
        "process": case.process.key,
        "version": case.version.number,
        "customer": case.customer.code,
        "state": case.state,
        "data": case.data,
        "attachments": sorted(a.token for a in linked(case)),
    }


def upload_for_api(file, actor, *, process: str | None = None, field: str | None = None) -> Attachment:
    """Store a file sent to the API. With `process` and `field` (a JSON Pointer of one of
    its file fields) the field's size and type limits apply at once, as on the form (the type
    decided from the content, not the Content-Type sent); in any case they apply when the
    token is put into a field. Invalid beyond the uploader's quota."""
    from formflow.forms.schema_tree import Tree

    node = None
    if process or field:
        if not (process and field):
            message = _("Give both “process” and “field”, or neither.")
            raise Invalid([{"pointer": "/field" if process else "/process", "message": message}])
        try:
            schema, ui_schema = form_of(processes.published_version(process))
        except NotFound:
            message = _("No published process with key %(key)s.", key=process)
            raise Invalid([{"pointer": "/process", "message": message}]) from None
        root = Tree(schema, ui_schema).build({})
        node = next((n for n in root.walk() if n.pointer == field and n.widget == "file"), None)
        if node is None:
            raise Invalid([{"pointer": "/field", "message": _("The form has no file field %(f)s.", f=field)}])
    filename, size = uploads.display_filename(file.filename), stream_size(file.stream)
    found = content_type(read_head(file.stream), filename)
    problem = file_problem(node, filename, found, size) if node is not None else None
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if problem is None and node is None and limit and size > int(limit):
        problem = _("The file is too large.")
    if problem:
        raise Invalid([{"pointer": "/file", "message": problem}])
    token = uploads.store_upload(field or "", file, {}, actor=actor)
    return uploads.by_tokens([token])[token]
