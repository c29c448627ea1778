"""The checks every change of a case's data passes, whoever makes it (the form, the API, a
workflow action): the version's rules applied server-side, the schema (complete for a
submission, every value right for a draft) and the uploaded files the data names.

Error pointers are relative to the inputs as one document `{"process", "customer", "data"}`:
`/data/amount` (formflow.cases.services says more)."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext as _

from formflow import forms
from formflow.errors import Invalid
from formflow.forms.declared import undeclared
from formflow.forms.normalising import file_fields, normalise, out_of_bounds
from formflow.forms.parsing import file_problem
from formflow.forms.pointers import join
from formflow.processes.form_rules import RuleOutcome, apply_rules, rule_context, version_tables
from formflow.processes.models import ProcessVersion
from formflow.records import uploads
from formflow.records.models import Attachment, Case


def form_of(version: ProcessVersion) -> tuple[dict, dict]:
    """The (schema, uiSchema) of a version's form."""
    form = version.spec.get("form") or {}
    return form.get("schema") or {}, form.get("uiSchema") or {}


def case_context(case: Case | None, version: ProcessVersion) -> dict:
    """What rules read as `case`: its id, state, process and version (a new case: no id, a draft)."""
    return {
        "id": case.id if case is not None else None,
        "state": case.state if case is not None else "draft",
        "process": version.process.key,
        "version": version.number,
    }


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
        raise Invalid([in_data(error) for error in too_large])
    unknown = undeclared(schema, data, previous)
    if unknown:  # before any rule reads them; what is stored is the form's fields only
        raise Invalid([in_data(error) for error in unknown])
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
        raise Invalid([in_data(error) for error in too_large])
    return data, outcome


def checked(version, data, *, submit, case, actor, input_errors, outcome=None) -> list[Attachment]:
    """Every problem with `data` at once, or the attachments it refers to."""
    if not isinstance(data, dict):
        raise Invalid([{"pointer": "/data", "message": _("The data must be a JSON object.")}])
    schema, ui_schema = form_of(version)
    outcome = outcome or RuleOutcome()
    errors = [in_data(error) for error in input_errors]
    # A value the form could not read is reported once, not again as missing or wrong.
    reported = {_target(error) for error in errors}
    errors += [in_data(error) for error in outcome.errors if in_data(error)["pointer"] not in reported]
    reported |= {_target(error) for error in errors}
    verdict = forms.validate(schema if submit else without_required(schema), data)
    # a field a rule hides is not required, whatever the schema says
    verdict = [error for error in verdict if not outcome.is_hidden(error.get("field") or error["pointer"])]
    errors += [error for error in map(in_data, verdict) if _target(error) not in reported]
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


def in_data(error: dict) -> dict:
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
