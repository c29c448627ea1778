"""What-if: before publishing a changed rule or table, replay the candidate version's rules
over the last N cases of the process and list the outcomes that would change, compared
with the published version (both evaluated now, each case as of the moment it was
submitted, so date rules see the same "today" on both sides).

An outcome is: valid or not, the messages per field, the required fields left empty, the
computed values, and the approvals each workflow step would require."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import forms
from formflow.errors import Conflict, NotFound
from formflow.extensions import db
from formflow.forms.pointers import resolve
from formflow.processes import services as processes
from formflow.processes.models import ProcessVersion
from formflow.records.models import Case
from formflow.rules.engine import compile, prepare
from formflow.rules.errors import RuleError
from formflow.tables import tables_for, tables_for_version
from formflow.trials.outcomes import CaseChange, Verdict, WhatIf

DEFAULT_LAST = 100
MAX_LAST = 1000


# --- replaying -----------------------------------------------------------------------------


def recent_cases(process_key: str, last: int) -> list[Case]:
    """The last `last` cases of the process that were submitted (drafts are not outcomes yet)."""
    process = processes.get_process(process_key)
    return list(
        db.session.execute(
            sa.select(Case)
            .where(Case.process_id == process.id, Case.state != "draft")
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(last)
        )
        .unique()
        .scalars()
    )


def replay(
    process_key: str,
    candidate_spec: dict,
    *,
    last: int = DEFAULT_LAST,
    candidate_tables: dict | None = None,
    candidate_number: int | None = None,
) -> WhatIf:
    """The candidate spec's outcomes over the last `last` submitted cases of the process,
    compared with the published version's. `candidate_tables` default: the candidate's own
    tables and the newest global tables (what publishing it would pin)."""
    last = max(1, min(int(last), MAX_LAST))
    process = processes.get_process(process_key)
    try:
        baseline = processes.published_version(process.key)
    except NotFound:  # nothing published, so no case to replay
        return WhatIf(process.key, None, candidate_number, last)
    baseline_tables = tables_for_version(baseline)
    if candidate_tables is None:
        candidate_tables = tables_for(candidate_spec)
    result = WhatIf(process.key, baseline, candidate_number, last)
    for case in recent_cases(process.key, last):
        context, today = _context(case)
        change = CaseChange(
            case,
            _verdict(baseline.spec, baseline_tables, case, context, today),
            _verdict(candidate_spec, candidate_tables, case, context, today),
        )
        result.replayed += 1
        if change.changed:
            result.changes.append(change)
        else:
            change.before.run = change.after.run = None  # nothing to explain: let it go
    return result


def candidate(process_key: str, number: int | None = None) -> ProcessVersion | None:
    """The version a what-if looks at: `number`, else the latest when it is a draft (None
    when there is no draft: nothing would change on publishing)."""
    if number is not None:
        return processes.version(process_key, number)
    latest = processes.latest_version(process_key)
    return latest if latest.status == "draft" else None


def replay_version(process_key: str, number: int | None = None, *, last: int = DEFAULT_LAST) -> WhatIf:
    """What-if of version `number` (default: the latest draft) against the published one.
    Conflict when there is no such draft."""
    if number is None:
        candidate = processes.latest_version(process_key)
        if candidate.status != "draft":
            raise Conflict(_("Process %(key)s has no draft to compare.", key=process_key))
    else:
        candidate = processes.version(process_key, number)
    return replay(
        process_key,
        candidate.spec,
        last=last,
        candidate_tables=tables_for_version(candidate),
        candidate_number=candidate.number,
    )


def _moment(case: Case) -> datetime:
    return (case.submitted_at or case.created_at).replace(tzinfo=UTC)


def _context(case: Case) -> tuple[dict, date]:
    from formflow.forms.values import business_zone
    from formflow.processes.form_rules import rule_context

    moment = _moment(case)
    context = rule_context(
        case.data,
        customer=case.customer,
        case={
            "id": case.id,
            "state": case.state,
            "process": case.process.key,
            "version": case.version.number,
        },
        user=case.created_by,
        now=moment,
    )
    return context, moment.astimezone(business_zone()).date()


def _verdict(spec: dict, tables: dict, case: Case, context: dict, today: date) -> Verdict:
    from formflow.processes.form_rules import apply_rules

    verdict = Verdict()
    try:
        data, outcome = apply_rules(spec, case.data, context, today=today, tables=tables, previous=case.data)
    except RuleError as failure:
        verdict.errors[""] = failure.errors[0]["message"]
        return verdict
    for error in outcome.errors:
        verdict.errors.setdefault(error["pointer"], error["message"])
    verdict.missing = {pointer for pointer in outcome.required if _empty(resolve(data, pointer))}
    schema = (spec.get("form") or {}).get("schema") or {}
    for error in forms.validate(schema, data):
        target = error.get("field") or error["pointer"]
        if outcome.is_hidden(target):
            continue  # a hidden field is not required
        verdict.errors.setdefault(target, error["message"])
        if "field" in error:
            verdict.missing.add(target)
    verdict.computed = dict(outcome.computed)
    verdict.approvals = _approvals(spec, {**context, "data": data}, tables, today)
    verdict.run = (spec, data, context, outcome, tables, today)
    return verdict


def _approvals(spec: dict, context: dict, tables: dict, today: date) -> dict[str, Any]:
    """Approvals each workflow state requires for this case (a number or a rule giving one)."""
    states = (spec.get("workflow") or {}).get("states") if isinstance(spec.get("workflow"), dict) else None
    if not isinstance(states, dict):
        return {}
    found: dict[str, Any] = {}
    prepared = None
    for name, state in states.items():
        approvals = state.get("approvals") if isinstance(state, dict) else None
        required = approvals.get("required") if isinstance(approvals, dict) else None
        if required is None:
            continue
        if isinstance(required, dict | list):
            try:
                prepared = prepared or prepare(context, tables)
                found[name] = compile(required).evaluate(prepared, today=today)
            except RuleError:
                found[name] = None
        else:
            found[name] = required
    return found


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def value_text(value: Any) -> str:
    """A computed value or an approval count as the what-if page shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
