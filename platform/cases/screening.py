"""Offboarding screening (清退标准), a `formflow tick` job: every published process whose spec has
a `screening` (the offboarding template does) is evaluated for each customer with something on
record, and a case of it is opened for each customer its rule holds for — never a second while
one of that process is open for the customer.

The rule reads `{customer, facts, now}`; the facts are the customer's late-payment record
(billing.late: consecutive late periods, late payments, the open receivable and its age in
days), the violations and complaints counted from closed cases of the processes `count` names
(in the states it names, when it does), and the customer's credit flag. Thresholds come from
parameter tables through `lookup` (the offboarding template's `offboarding_thresholds`, per
tier). The new case's fields come from `data` (pointer → JSONLogic over the same context), so
the facts that triggered it stand on the case; it starts at the workflow's first step (assigned
as the spec says: risk, in the template).

Never two: each customer is screened in its own transaction that first takes the customer's row
(FOR UPDATE on PostgreSQL; on SQLite the write lock, by a no-op UPDATE as its first statement),
then looks for an open case — so two nodes ticking at once open one."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from formflow import rules
from formflow.billing.fee_run import business_date
from formflow.billing.late import late_record
from formflow.billing.models import Invoice
from formflow.cases.effects import open_draft
from formflow.customers.models import Customer
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.processes.form_rules import truthy
from formflow.processes.models import Process, ProcessVersion
from formflow.processes.rule_inputs import version_tables
from formflow.records.models import Case

log = logging.getLogger(__name__)

#: customers who can no longer be offboarded
SETTLED = ("offboarded", "blacklisted")


@dataclass
class ScreeningReport:
    screened: int = 0
    opened: list[int] = field(default_factory=list)
    already_open: int = 0
    failed: int = 0


def facts_of(customer: Customer, screening: dict, today) -> dict:
    """What the screening rule reads of `customer` (JSON-ready: money as Decimal)."""
    record = late_record(customer.id, today)
    facts: dict = record.facts()
    for name in ("violations", "complaints"):
        spec = (screening.get("count") or {}).get(name)
        facts[name] = _counted(customer.id, spec) if spec else 0
    facts["credit_flag"] = bool(customer.credit_flag)
    return facts


def _counted(customer_id: int, spec: dict) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(Case)
        .join(Process, Process.id == Case.process_id)
        .where(
            Case.customer_id == customer_id, Case.closed_at.is_not(None), Process.key.in_(spec["processes"])
        )
    )
    if spec.get("states"):
        query = query.where(Case.state.in_(spec["states"]))
    return db.session.execute(query).scalar_one()


def screen_for_offboarding(now: datetime) -> ScreeningReport:
    """`formflow tick`'s job (see the module's notes)."""
    report = ScreeningReport()
    today = business_date(now)
    for version in _screening_versions():
        screening = version.spec["screening"]
        tables = version_tables(version)
        for customer_id in _candidates(screening):
            db.session.commit()  # each customer in a transaction of its own, its lock first
            try:
                _screen(version, screening, tables, customer_id, today, now, report)
                db.session.commit()
            except (Invalid, rules.RuleError) as problem:
                db.session.rollback()
                report.failed += 1
                log.warning(
                    "screening customer %s for %s failed: %s", customer_id, version.process.key, problem
                )
    return report


def _screening_versions() -> list[ProcessVersion]:
    versions = db.session.execute(
        sa.select(ProcessVersion)
        .join(Process, Process.id == ProcessVersion.process_id)
        .where(ProcessVersion.status == "published")
        .order_by(Process.key)
    ).scalars()
    return [version for version in versions if isinstance((version.spec or {}).get("screening"), dict)]


def _candidates(screening: dict) -> list[int]:
    """Customers with something the facts count: an invoice, a credit flag, or a counted case."""
    with_invoices = sa.select(Invoice.customer_id).where(Invoice.status != "void")
    flagged = sa.select(Customer.id).where(Customer.credit_flag.is_(True))
    queries = [with_invoices, flagged]
    for spec in (screening.get("count") or {}).values():
        queries.append(
            sa.select(Case.customer_id)
            .join(Process, Process.id == Case.process_id)
            .where(Case.closed_at.is_not(None), Process.key.in_(spec["processes"]))
        )
    ids = sa.union(*queries).subquery()
    return list(
        db.session.execute(
            sa.select(Customer.id)
            .where(Customer.id.in_(sa.select(ids.c[0])), Customer.status.not_in(SETTLED))
            .order_by(Customer.id)
        ).scalars()
    )


def _screen(version, screening, tables, customer_id, today, now, report: ScreeningReport) -> None:
    customer = _locked(customer_id)
    report.screened += 1
    facts = facts_of(customer, screening, today)
    context = {"customer": customer.snapshot(), "facts": facts, "now": now.isoformat()}
    prepared = rules.prepare(context, tables)
    if not truthy(rules.compile(screening["when"]).evaluate(prepared, rule_id="screening.when")):
        return
    if _open_case(customer.id, version.process_id):
        report.already_open += 1
        return
    values = {
        target: rules.compile(expression).evaluate(prepared)
        if isinstance(expression, dict | list)
        else expression
        for target, expression in (screening.get("data") or {}).items()
    }
    case = open_draft(
        version, customer, values, created_by_id=None, actor=None, now=now,
        audit_extra={"screening": {key: str(value) for key, value in facts.items()}},
    )  # fmt: skip
    report.opened.append(case.id)


def _locked(customer_id: int) -> Customer:
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(
            sa.select(Customer).where(Customer.id == customer_id).with_for_update()
        ).scalar_one()
    db.session.execute(
        sa.update(Customer).where(Customer.id == customer_id).values(credit_flag=Customer.credit_flag)
    )
    return db.session.get(Customer, customer_id)


def _open_case(customer_id: int, process_id: int) -> bool:
    return (
        db.session.execute(
            sa.select(Case.id).where(
                Case.customer_id == customer_id, Case.process_id == process_id, Case.closed_at.is_(None)
            )
        ).first()
        is not None
    )
