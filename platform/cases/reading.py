"""What a case's pages show: the case, its form as the current step shows it, the Submit
button's title, why it came back to its form, who submitted it, and the rules' preview."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import forms
from formflow.audit.models import AuditEntry
from formflow.auth.models import User
from formflow.customers import services as customers
from formflow.customers import statuses
from formflow.customers.models import Customer
from formflow.errors import Invalid, NotFound
from formflow.extensions import db
from formflow.forms.texts import localized
from formflow.processes import services as processes
from formflow.processes.form_rules import RuleOutcome, apply_rules, rule_context, version_tables
from formflow.processes.models import ProcessVersion
from formflow.records.checking import case_context, form_of
from formflow.records.models import Case
from formflow.rules.operators import business_today
from formflow.workflows import engine

#: The action of a workflow's form state that the form's "Submit" button takes.
SUBMIT_ACTION = "submit"


def get(case_id: int) -> Case:
    # A number no database integer can hold is no case (rather than a driver overflow).
    case = db.session.get(Case, case_id) if 0 < case_id < 2**63 else None
    if case is None:
        raise NotFound(_("No case number %(id)s.", id=case_id))
    return case


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
        .order_by(AuditEntry.id.desc())
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
        .order_by(AuditEntry.id)
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
    refused = statuses.refusal(version.spec, customer, localized(version.spec.get("name")))
    if refused:
        raise Invalid([{"pointer": "/customer", "message": refused}])
    return version, customer


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
