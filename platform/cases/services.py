"""Cases: start one for a customer on a process's published version, edit a draft,
submit it, find cases.

Error pointers are relative to the call's inputs as one document
`{"process", "customer", "data"}`: `/process`, `/customer`, `/data/amount`. The API
passes them through unchanged (they point into its request body); the UI strips `/data`
to put each message next to its field.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_timezone
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from formflow import audit, forms
from formflow.audit.models import AuditEntry
from formflow.auth.models import User
from formflow.auth.permissions import require
from formflow.cases import uploads, visibility
from formflow.cases.models import Attachment, Case
from formflow.customers import services as customers
from formflow.customers.models import Customer
from formflow.errors import Conflict, Forbidden, Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.forms.declared import undeclared
from formflow.forms.filetypes import content_type, read_head
from formflow.forms.normalising import file_fields, normalise, out_of_bounds
from formflow.forms.parsing import file_problem, stream_size
from formflow.forms.pointers import join
from formflow.processes import services as processes
from formflow.processes.form_rules import RuleOutcome, apply_rules, rule_context, version_tables
from formflow.processes.models import Process, ProcessVersion
from formflow.rules.operators import business_today
from formflow.workflows import engine
from formflow.workflows.models import ChecklistTick

STATES = ("draft", "submitted")


# --- reading ------------------------------------------------------------------------------


def get(case_id: int) -> Case:
    # A number no database integer can hold is no case (rather than a driver overflow).
    case = db.session.get(Case, case_id) if 0 < case_id < 2**63 else None
    if case is None:
        raise NotFound(_("No case number %(id)s.", id=case_id))
    return case


def form_of(version: ProcessVersion) -> tuple[dict, dict]:
    """The (schema, uiSchema) of a version's form."""
    form = version.spec.get("form") or {}
    return form.get("schema") or {}, form.get("uiSchema") or {}


def step_form(version: ProcessVersion, case: Case | None) -> tuple[dict, dict]:
    """The form as the case's current step shows it: at a form step that names its fields,
    every other top-level field read-only (so a later step edits only what it names)."""
    schema, ui_schema = form_of(version)
    if case is None or engine.editable_fields(case) is None:
        return schema, ui_schema
    ui_schema = copy.deepcopy(ui_schema) if isinstance(ui_schema, dict) else {}
    for name in (schema.get("properties") or {}) if isinstance(schema, dict) else ():
        if not engine.may_change(case, name):
            field_ui = ui_schema.setdefault(name, {})
            if isinstance(field_ui, dict):
                field_ui["ui:readonly"] = True
    return schema, ui_schema


def at_start(case: Case) -> bool:
    """Whether the case is at its first form (a draft), rather than a later step."""
    workflow = engine.workflow_of(case.version)
    return case.state == (workflow.get("start") if workflow else "draft")


def submit_title(version: ProcessVersion, case: Case | None) -> str | None:
    """The form's Submit button: the title of the step's `submit` action (None: the step
    has no such action, so the form only saves and the case page's actions move it on)."""
    workflow = engine.workflow_of(version)
    if workflow is None:
        return _("Submit") if case is None or case.state == "draft" else None
    state = workflow["states"].get(case.state if case is not None else workflow["start"]) or {}
    action = (state.get("actions") or {}).get(SUBMIT_ACTION)
    if not isinstance(action, dict):
        return None
    return engine.title_of(action.get("title"), _("Submit"))


@dataclass
class ReturnNote:
    by: User | None
    at: datetime
    comment: str
    action: str


def return_note(case: Case) -> ReturnNote | None:
    """Why the case came back to the form it is at: the comment of the action that sent it
    back (None when it never left this form, or no comment was given)."""
    if not engine.is_form_state(case) or case.submitted_at is None:
        return None
    entries = db.session.execute(
        sa.select(AuditEntry)
        .where(
            AuditEntry.object_type == "case",
            AuditEntry.object_id == str(case.id),
            AuditEntry.action == "case.transition",
        )
        .order_by(AuditEntry.seq.desc())
    ).scalars()
    into_this = [e for e in entries if (e.after or {}).get("state") == case.state]
    # sent back: the form was reached before (the first stay at a later form step is no return)
    if len(into_this) < 2:
        return None
    entry = into_this[0]
    after = entry.after or {}
    if not str(after.get("comment") or "").strip():
        return None
    actor = db.session.get(User, entry.actor_id) if entry.actor_id else None
    return ReturnNote(actor, entry.at, str(after["comment"]), str(after.get("action") or ""))


def display_rows(case: Case) -> list:
    """The case's data as titled rows, for read-only pages."""
    schema, ui_schema = form_of(case.version)
    return forms.display(schema, ui_schema, case.data)


def submitter(case: Case) -> User | None:
    """Who submitted the case: the audit log's `case.submit` entry says."""
    entry = db.session.execute(
        sa.select(AuditEntry)
        .where(
            AuditEntry.object_type == "case",
            AuditEntry.object_id == str(case.id),
            AuditEntry.action == "case.submit",
        )
        .order_by(AuditEntry.seq)
        .limit(1)
    ).scalar_one_or_none()
    return db.session.get(User, entry.actor_id) if entry is not None and entry.actor_id else None


def resolve(process_key: str, customer_code: str) -> tuple[ProcessVersion, Customer]:
    """The published version of the process and the customer a new case is for."""
    errors, version, customer = [], None, None
    process_key, customer_code = (process_key or "").strip(), (customer_code or "").strip()
    if not process_key:
        errors.append({"pointer": "/process", "message": _("Choose a process.")})
    else:
        try:
            version = processes.published_version(process_key)
        except NotFound:
            message = _("No published process with key %(key)s.", key=process_key)
            errors.append({"pointer": "/process", "message": message})
    if not customer_code:
        errors.append({"pointer": "/customer", "message": _("Enter a customer code.")})
    else:
        try:
            customer = customers.get_by_code(customer_code)
        except NotFound:
            message = _("No customer with code %(code)s.", code=customer_code)
            errors.append({"pointer": "/customer", "message": message})
    if errors:
        raise Invalid(errors)
    return version, customer


def process_choices() -> list[Process]:
    """Every process, for the list's filter (cases outlive their process's publication)."""
    return list(db.session.execute(sa.select(Process).order_by(Process.key)).scalars())


# --- writing ------------------------------------------------------------------------------


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
    attachments = _checked(
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
    _link_attachments(case, attachments)
    audit.record("case.create", "case", case.id, after=snapshot(case), actor=actor)
    engine.start(case, actor, now)
    if submit:
        _submit(case, actor, now)
    return case


def _submit(case: Case, actor, now) -> None:
    """Submitting: with a workflow, its start state's `submit` action (which checks the
    submission, as every action leaving a form step does); without, a state."""
    if engine.workflow_of(case.version) is not None:
        engine.perform(case, SUBMIT_ACTION, actor, now=now)
    else:
        _record_submit(case, actor)


def check_submission(case: Case, actor, now) -> None:
    """The case leaves its form step, whichever button, page or API call moves it on: its
    data must be a complete, valid submission (the schema with `required`, every rule,
    attachments), exactly as the form's Submit demands. Invalid otherwise (nothing moves)."""
    previous = case.data or {}
    data, outcome = apply_case_rules(
        case.version, case.customer, case, actor, previous, previous, submit=True
    )
    attachments = _checked(
        case.version, data, submit=True, case=case, actor=actor, input_errors=(), outcome=outcome
    )
    if data != previous:
        _store_data(case, data, actor)
    _link_attachments(case, attachments)
    if case.submitted_at is None:
        case.submitted_at = now
    _record_submit(case, actor)


def change_data(case: Case, data: dict, actor) -> None:
    """Data sent with a workflow action: merged into the case's data and checked like a
    save (the action then checks a submission if it leaves the form step). Only fields the
    step may change; the change is audited with its before and after."""
    previous = case.data or {}
    _refuse_fixed_fields(case, data, previous)
    merged, outcome = apply_case_rules(
        case.version, case.customer, case, actor, {**previous, **data}, previous, submit=False
    )
    attachments = _checked(
        case.version, merged, submit=False, case=case, actor=actor, input_errors=(), outcome=outcome
    )
    _store_data(case, merged, actor)
    _link_attachments(case, attachments)


def _refuse_fixed_fields(case: Case, data: dict, previous: dict) -> None:
    """Invalid when `data` changes a field the case's current step does not let change."""
    errors = [
        {"pointer": join("/data", str(key)), "message": _("This field cannot be changed at this step.")}
        for key, value in data.items()
        if (key not in previous or previous[key] != value) and not engine.may_change(case, str(key))
    ]
    if errors:
        raise Invalid(errors)


def _keep_fixed_fields(case: Case, data: dict, previous: dict) -> dict:
    """`data` with every field the step may not change as it was (a form step that names
    its fields shows the others read-only; absent means unchanged, not removed)."""
    if engine.editable_fields(case) is None:
        return data
    kept = {key: value for key, value in data.items() if engine.may_change(case, str(key))}
    kept.update({key: value for key, value in previous.items() if not engine.may_change(case, str(key))})
    return kept


def _store_data(case: Case, data: dict, actor) -> None:
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


#: The action of a workflow's form state that the form's "Submit" button takes.
SUBMIT_ACTION = "submit"


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
    attachments = _checked(
        case.version, data, submit=submit, case=case, actor=actor, input_errors=input_errors, outcome=outcome
    )
    before = snapshot(case)
    case.data = copy.deepcopy(data)
    case.search_text = search_text(data)
    has_workflow = engine.workflow_of(case.version) is not None
    if submit and not has_workflow:
        case.state, case.submitted_at = "submitted", utcnow()
    _link_attachments(case, attachments)
    db.session.flush()
    audit.record("case.update", "case", case.id, before=before, after=snapshot(case), actor=actor)
    if submit:
        _submit(case, actor, utcnow())


def snapshot(case: Case) -> dict:
    return {
        "process": case.process.key,
        "version": case.version.number,
        "customer": case.customer.code,
        "state": case.state,
        "data": case.data,
        "attachments": sorted(a.token for a in _linked(case)),
    }


def _record_submit(case: Case, actor) -> None:
    after = {"state": case.state, "submitted_at": case.submitted_at}
    audit.record("case.submit", "case", case.id, before={"state": "draft"}, after=after, actor=actor)


def apply_case_rules(version, customer, case, actor, data, previous, *, submit: bool):
    """The version's rules over `data` (server-side, always): computed values stored, hidden
    values dropped, read-only values kept. Drafts skip required-if and validate rules.
    Invalid first when `data` holds numbers beyond any meaning or keys the form does not
    declare (a key stored before, unchanged, excepted); every save, submission and action's
    data comes through here."""
    if not isinstance(data, dict):
        raise Invalid([{"pointer": "/data", "message": _("The data must be a JSON object.")}])
    schema, ui_schema = form_of(version)
    too_large = out_of_bounds(schema, ui_schema, data)
    if too_large:  # before any rule or check does arithmetic with it
        raise Invalid([_in_data(error) for error in too_large])
    unknown = undeclared(schema, data, previous)
    if unknown:  # before any rule reads them; what is stored is the form's fields only
        raise Invalid([_in_data(error) for error in unknown])
    data = normalise(schema, ui_schema, data)
    context = rule_context(
        data,
        customer=customer,
        case=case_context(case, version),
        user=actor,
    )
    data, outcome = apply_rules(
        version.spec,
        data,
        context,
        tables=version_tables(version),
        previous=previous,
        check_required=submit,
        check_validate=submit,
    )
    too_large = out_of_bounds(schema, ui_schema, data)
    if too_large:  # a computed value (an amount times a rate) is bounded like a typed one
        raise Invalid([_in_data(error) for error in too_large])
    return data, outcome


def rules_preview(version, customer, case, actor, data) -> tuple[RuleOutcome | None, dict | None]:
    """What the rules decide for the form as shown (hidden, required, read-only, computed),
    and what the page embeds so the browser can run the same rules live. (None, None) when
    the version has no rules."""
    if not version.spec.get("rules"):
        return None, None
    data = data if isinstance(data, dict) else {}
    context = rule_context(data, customer=customer, case=case_context(case, version), user=actor)
    tables = version_tables(version)
    _after, outcome = apply_rules(
        version.spec, data, context, tables=tables, previous=case.data if case else {},
        check_required=False, check_validate=False,
    )  # fmt: skip
    live = {
        "rules": version.spec["rules"],
        "tables": tables,
        "context": {k: v for k, v in context.items() if k != "data"},
        "today": business_today().isoformat(),  # the business date, not the browser's or UTC's
    }
    return outcome, live


def case_context(case: Case | None, version: ProcessVersion) -> dict:
    return {
        "id": case.id if case is not None else None,
        "state": case.state if case is not None else "draft",
        "process": version.process.key,
        "version": version.number,
    }


def _checked(version, data, *, submit, case, actor, input_errors, outcome=None) -> list[Attachment]:
    """Every problem with `data` at once, or the attachments it refers to."""
    if not isinstance(data, dict):
        raise Invalid([{"pointer": "/data", "message": _("The data must be a JSON object.")}])
    schema, ui_schema = form_of(version)
    outcome = outcome or RuleOutcome()
    errors = [_in_data(error) for error in input_errors]
    # A value the form could not read is reported once, not again as missing or wrong.
    reported = {_target(error) for error in errors}
    errors += [_in_data(error) for error in outcome.errors if _in_data(error)["pointer"] not in reported]
    reported |= {_target(error) for error in errors}
    verdict = forms.validate(schema if submit else without_required(schema), data)
    # a field a rule hides is not required, whatever the schema says
    verdict = [error for error in verdict if not outcome.is_hidden(error.get("field") or error["pointer"])]
    errors += [error for error in map(_in_data, verdict) if _target(error) not in reported]
    attachments, attachment_errors = _referenced_attachments(data, case, actor)
    errors += attachment_errors
    errors += [error for error in _not_files(schema, ui_schema, data) if _target(error) not in reported]
    if errors:
        raise Invalid(errors)
    return attachments


def _not_files(schema: dict, ui_schema: dict, data: dict) -> list[dict]:
    """A file field holds the token of an uploaded file (the form's upload, or the API's
    `POST /api/v1/attachments`), never any other text, and the file meets the field's size
    and type limits however it was uploaded."""
    errors = []
    nodes = file_fields(schema, ui_schema, data)
    found = uploads.by_tokens(v for node in nodes for v in _listed(node.value) if isinstance(v, str))
    for node in nodes:
        for item in _listed(node.value):
            if item is not None and not (isinstance(item, str) and uploads.TOKEN.match(item)):
                message = _("Upload a file here: this is not an uploaded file.")
            elif (attachment := found.get(item)) is not None:
                message = file_problem(node, attachment.filename, attachment.content_type, attachment.size)
            else:
                message = None  # an unknown token is reported by _referenced_attachments
            if message:
                errors.append({"pointer": "/data" + node.pointer, "message": message})
                break
    return errors


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


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


def _in_data(error: dict) -> dict:
    """A forms error (pointers relative to the data) relative to the inputs; other members
    (`field`: the missing property; `input`: the text that could not be read) are kept."""
    moved = {**error, "pointer": "/data" + error.get("pointer", "")}
    if "field" in error:
        moved["field"] = "/data" + error["field"]
    return moved


def _target(error: dict) -> str:
    return error.get("field") or error["pointer"]


def _referenced_attachments(data: dict, case: Case | None, actor) -> tuple[list[Attachment], list[dict]]:
    """The attachments the data names by token. A case may only take files its actor
    uploaded (not yet on any case) or files already on this very case: knowing another
    user's token must not be a way to read their file."""
    references = list(_token_values(data, "/data"))
    found = uploads.by_tokens(token for _pointer, token in references)
    attachments, errors = {}, []
    for pointer, token in references:
        attachment = found.get(token)
        if attachment is None:
            message = _("No such uploaded file; upload it again.")
        elif attachment.case_id is not None and (case is None or attachment.case_id != case.id):
            message = _("This file belongs to another case; upload it again.")
        elif attachment.case_id is None and attachment.uploaded_by_id != actor.id:
            message = _("This file was uploaded by someone else; upload it again.")
        elif uploads.expired(attachment):  # about to be deleted by the clean-up
            message = _("This upload has expired; upload it again.")
        else:
            attachments[attachment.id] = attachment
            continue
        errors.append({"pointer": pointer, "message": message})
    return list(attachments.values()), errors


def _linked(case: Case) -> list[Attachment]:
    if case.id is None:
        return []
    return list(db.session.execute(sa.select(Attachment).where(Attachment.case_id == case.id)).scalars())


def _link_attachments(case: Case, attachments: list[Attachment]) -> None:
    """Put the referenced files on the case; files a draft no longer refers to go back
    to their uploader (visible to them alone, and deleted by the orphan clean-up), so a case
    shows only its evidence. A checklist's evidence is not in the data, and stays."""
    keep = {a.id for a in attachments}
    linked = _linked(case)
    evidence = _checklist_evidence(case) if linked else set()
    for attachment in linked:
        if attachment.id in keep or attachment.token in evidence or attachment.field.startswith("checklist:"):
            continue
        attachment.case_id = None
    for attachment in attachments:
        attachment.case_id = case.id
    db.session.flush()
    db.session.expire(case, ["attachments"])


def _checklist_evidence(case: Case) -> set[str]:
    """The tokens of the files the case's checklist ticks hold as evidence."""
    query = sa.select(ChecklistTick.attachment_token).where(
        ChecklistTick.case_id == case.id, ChecklistTick.attachment_token.is_not(None)
    )
    return set(db.session.execute(query).scalars())


def _token_values(value, pointer: str) -> Iterator[tuple[str, str]]:
    """(pointer, token) for every string in the data shaped like an attachment token."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _token_values(item, join(pointer, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _token_values(item, f"{pointer}/{index}")
    elif isinstance(value, str) and uploads.TOKEN.match(value):
        yield pointer, value


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


#: Keywords whose value is one subschema / a list of subschemas / a map of subschemas.
_SUBSCHEMA = ("additionalProperties", "not", "if", "then", "else", "contains", "propertyNames")
_SUBSCHEMA += ("items", "unevaluatedItems", "unevaluatedProperties", "additionalItems")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def without_required(schema):
    """The schema with `required` and `dependentRequired` removed everywhere: what a
    draft must satisfy (every value it has is right; it need not be complete)."""
    if not isinstance(schema, dict):
        return schema
    result = {}
    for keyword, value in schema.items():
        if keyword in ("required", "dependentRequired"):
            continue
        if keyword in _SUBSCHEMA_MAPS and isinstance(value, dict):
            value = {name: without_required(sub) for name, sub in value.items()}
        elif keyword in _SUBSCHEMA_LISTS and isinstance(value, list):
            value = [without_required(sub) for sub in value]
        elif keyword in _SUBSCHEMA:
            value = without_required(value)
        result[keyword] = value
    return result


# --- finding ------------------------------------------------------------------------------


@dataclass
class CaseFilter:
    """What the case list shows; dates are days in the app's time zone, both inclusive."""

    process: str | None = None
    state: str | None = None
    customer: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    text: str | None = None
    #: whose list it is: only the cases this user may read (formflow.cases.visibility)
    viewer: User | None = None

    def apply(self, query: sa.Select) -> sa.Select:
        if self.viewer is not None:
            query = query.where(visibility.visible(self.viewer))
        if self.process:
            query = query.where(Case.process_id.in_(sa.select(Process.id).where(Process.key == self.process)))
        if self.state:
            # "review" (in any process) or "deduction:review" (one process's state)
            process, _sep, state = self.state.rpartition(":")
            query = query.where(Case.state == state)
            if process:
                query = query.where(Case.process_id.in_(sa.select(Process.id).where(Process.key == process)))
        if self.customer:
            query = query.where(Customer.code == self.customer.strip())
        if self.created_from:
            query = query.where(Case.created_at >= _utc_midnight(self.created_from))
        if self.created_to:
            query = query.where(Case.created_at < _utc_midnight(self.created_to + timedelta(days=1)))
        if self.text and self.text.strip():
            text = self.text.strip()
            query = query.where(
                sa.or_(
                    Case.search_text.contains(text.lower(), autoescape=True),
                    Customer.code.icontains(text, autoescape=True),
                    Customer.name.icontains(text, autoescape=True),
                )
            )
        return query


def _utc_midnight(day: date) -> datetime:
    """The start of `day` in the app's time zone, as the naive UTC the columns hold."""
    # ZoneInfo by name: flask-babel may hand out a pytz zone, which `tzinfo=` gets wrong.
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(str(get_timezone())))
    return local.astimezone(UTC).replace(tzinfo=None)


def page(filters: CaseFilter, *, after: str | None, size: int) -> tuple[list[Case], str | None]:
    """Newest first, keyset-paginated on (created_at, id); returns the rows and the cursor
    of the next page (None on the last)."""
    query = filters.apply(sa.select(Case).join(Case.customer))
    if after:
        created_at, case_id = _parse_cursor(after)
        query = query.where(sa.tuple_(Case.created_at, Case.id) < sa.tuple_(created_at, case_id))
    query = query.order_by(Case.created_at.desc(), Case.id.desc()).limit(size + 1)
    rows = list(db.session.execute(query).unique().scalars())
    next_cursor = _cursor(rows[size - 1]) if len(rows) > size else None
    return rows[:size], next_cursor


def _cursor(case: Case) -> str:
    return f"{case.created_at.isoformat(timespec='microseconds')}_{case.id}"


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    stamp, _sep, case_id = cursor.rpartition("_")
    try:
        created_at, number = datetime.fromisoformat(stamp), int(case_id)
    except ValueError:
        number = -1
    if not 0 < number < 2**63:
        raise Invalid([{"pointer": "/after", "message": _("Not a page cursor.")}])
    return created_at, number


def state_title(case: Case) -> str:
    """The case's state as the user reads it: the workflow state's title (the key only
    when the spec gives none); without a workflow, Draft or Submitted."""
    return _state_title(case.version, case.state)


def _state_title(version: ProcessVersion, state: str) -> str:
    from formflow.processes.titles import state_title

    return state_title(version, state)


@dataclass
class ProcessStates:
    """A process and its states, (filter value "process:state", title), for the filter."""

    key: str
    name: str
    states: list[tuple[str, str]]


def state_choices(locale: str, process: str | None = None) -> list[ProcessStates]:
    """Every process's states over all its versions (newest version's order and titles
    first), for the list's state filter; only `process`'s when given."""
    query = (
        sa.select(ProcessVersion)
        .join(ProcessVersion.process)
        .order_by(Process.key, ProcessVersion.number.desc())
    )
    if process:
        query = query.where(Process.key == process)
    found: dict[str, ProcessStates] = {}
    seen: set[tuple[str, str]] = set()
    for version in db.session.execute(query).scalars():
        key = version.process.key
        entry = found.setdefault(key, ProcessStates(key, version.process.name(locale), []))
        workflow = engine.workflow_of(version)
        for state in workflow["states"] if workflow else STATES:
            if (key, state) not in seen:
                seen.add((key, state))
                entry.states.append((f"{key}:{state}", _state_title(version, state)))
    return sorted(found.values(), key=lambda entry: entry.name)


@dataclass
class Totals:
    """How many cases match the filters and, with a process chosen whose form has a money
    field, the sum of that field (its first top-level one; cases without a value add 0)."""

    count: int
    amount: Decimal | None = None
    amount_title: str = ""


def totals(filters: CaseFilter) -> Totals:
    base = filters.apply(sa.select(Case.id).join(Case.customer)).subquery()
    count = db.session.execute(sa.select(sa.func.count()).select_from(base)).scalar_one()
    money = _money_field(filters.process) if filters.process else None
    if money is None:
        return Totals(count)
    name, title = money
    amount = Decimal("0.00")
    query = filters.apply(sa.select(Case.data).join(Case.customer))
    for (data,) in db.session.execute(query.execution_options(yield_per=1000)):
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            amount += value
    return Totals(count, amount, title)


def _money_field(process_key: str) -> tuple[str, str] | None:
    """(top-level name, title) of the first money field of the process's form, as its
    published version (else its latest) has it."""
    try:
        version = processes.published_version(process_key)
    except NotFound:
        try:
            version = processes.latest_version(process_key)
        except NotFound:
            return None
    money = next((column for column in forms.columns(*form_of(version)) if column.money), None)
    return (money.name, money.title) if money else None


def matching(filters: CaseFilter, *, limit: int) -> Iterator[Case]:
    """The cases the list shows, newest first, at most `limit`, read in batches (an export)."""
    query = (
        filters.apply(sa.select(Case).join(Case.customer))
        .options(sa.orm.lazyload(Case.version), sa.orm.lazyload(Case.process))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    yield from db.session.execute(query.execution_options(yield_per=500)).scalars()


def versions_matching(filters: CaseFilter) -> list[ProcessVersion]:
    """The process versions of the cases the filters keep (their forms make the columns)."""
    ids = filters.apply(sa.select(Case.version_id).join(Case.customer)).distinct()
    query = sa.select(ProcessVersion).where(ProcessVersion.id.in_(ids)).join(ProcessVersion.process)
    return list(db.session.execute(query.order_by(Process.key, ProcessVersion.number.desc())).scalars())
