"""The door to cases: start one for a customer on a process's published version, edit a
draft, submit it, find cases. The work is done behind it, by what it is about:

- formflow.cases.editing   starting, saving and submitting a case; the API's uploads
- formflow.cases.reading   what a case's pages show (its form at this step, its submitter)
- formflow.cases.listing   the case list's filters, pages, totals and choices
- formflow.records         the checks every change of a case's data passes, and the storing
                           of that data (shared with the workflow engine, below cases)

Error pointers are relative to the call's inputs as one document
`{"process", "customer", "data"}`: `/process`, `/customer`, `/data/amount`. The API
passes them through unchanged (they point into its request body); the UI strips `/data`
to put each message next to its field.
"""

from formflow.cases.editing import ensure_editable, save, snapshot, start, upload_for_api
from formflow.cases.listing import (
    STATES,
    CaseFilter,
    ProcessStates,
    Totals,
    matching,
    page,
    process_choices,
    state_choices,
    state_title,
    totals,
    versions_matching,
)
from formflow.cases.reading import (
    SUBMIT_ACTION,
    ReturnNote,
    at_start,
    display_rows,
    get,
    resolve,
    return_note,
    rules_preview,
    step_form,
    submit_title,
    submitter,
)
from formflow.records.changes import search_text
from formflow.records.checking import apply_case_rules, case_context, form_of, without_required

__all__ = [
    "STATES",
    "SUBMIT_ACTION",
    "CaseFilter",
    "ProcessStates",
    "ReturnNote",
    "Totals",
    "apply_case_rules",
    "at_start",
    "case_context",
    "display_rows",
    "ensure_editable",
    "form_of",
    "get",
    "matching",
    "page",
    "process_choices",
    "resolve",
    "return_note",
    "rules_preview",
    "save",
    "search_text",
    "snapshot",
    "start",
    "state_choices",
    "state_title",
    "step_form",
    "submit_title",
    "submitter",
    "totals",
    "upload_for_api",
    "versions_matching",
    "without_required",
]
