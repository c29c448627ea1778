"""A customer's objections from the self-service page: disputing a deduction starts a case of
`deduction_dispute` (the deduction case and its amount filled in), appealing an offboarding
notice starts a case of `offboarding_appeal`. Either case has no author (the customer is no
user): it is read like a case the system opened, by the roles its steps name, and its
`case.create` audit entry names the link it came through. One open objection per deduction
or offboarding case: asked again, the customer is told which case is already open."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow.cases.effects import open_draft
from formflow.cases.reading import resolve as resolve_process
from formflow.errors import Invalid, NotFound
from formflow.extensions import db, utcnow
from formflow.records.models import Case
from formflow.selfservice import reading
from formflow.selfservice.models import SelfServiceLink

#: what a statement may hold (the processes' customer_statement allows as much)
MAX_STATEMENT = 4000


def _statement(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise Invalid([{"pointer": "/customer_statement", "message": _("Write what you object to and why.")}])
    if len(text) > MAX_STATEMENT:
        message = _("At most %(n)d characters (this has %(m)d).", n=MAX_STATEMENT, m=len(text))
        raise Invalid([{"pointer": "/customer_statement", "message": message}])
    return text


def _lock(case_id: int) -> None:
    """Take the objected case's row first, so two objections at once make one case."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Case.id).where(Case.id == case_id).with_for_update())
    else:  # SQLite: the write lock, by a no-op update as the first write
        db.session.execute(sa.update(Case).where(Case.id == case_id).values(state=Case.state))


def _published(process_key: str, customer):
    try:
        version, _customer = resolve_process(process_key, customer.code)
    except (Invalid, NotFound):
        raise Invalid(
            [
                {
                    "pointer": "",
                    "message": _("This cannot be filed here at the moment. Please contact us directly."),
                }
            ]
        ) from None
    return version


def dispute(
    link: SelfServiceLink, deduction_case, statement: str | None, *, now: datetime | None = None
) -> Case:
    """Start the dispute of one of the customer's deductions (see the module's notes)."""
    now = now or utcnow()
    customer = link.customer
    problems = []
    found = reading.deduction_of(customer, deduction_case)
    if found is None:
        problems.append(
            {"pointer": "/deduction_case", "message": _("Choose one of the deductions on your account.")}
        )
    try:
        text = _statement(statement)
    except Invalid as invalid:
        problems += invalid.errors
    if problems:
        raise Invalid(problems)
    _lock(found.case_id)
    found = reading.deduction_of(customer, found.case_id)  # as it is now that the row is ours
    if found.reversed:
        message = _("This deduction was reversed: there is nothing left to dispute.")
        raise Invalid([{"pointer": "/deduction_case", "message": message}])
    if found.dispute_id is not None:
        message = _(
            "Your dispute of this deduction is already open (case #%(id)d); we will answer it.",
            id=found.dispute_id,
        )
        raise Invalid([{"pointer": "/deduction_case", "message": message}])
    version = _published(reading.DEDUCTION_DISPUTE, customer)
    values = {"/deduction_case": found.case_id, "/amount": found.amount, "/customer_statement": text}
    return open_draft(
        version, customer, values, created_by_id=None, actor=None, now=now, parent_case=found.case_id,
        audit_extra={"self_service_link": link.id},
    )  # fmt: skip


def appeal(link: SelfServiceLink, notice_id, statement: str | None, *, now: datetime | None = None) -> Case:
    """Start the appeal of one of the customer's offboarding notices (see the module's notes)."""
    now = now or utcnow()
    customer = link.customer
    problems = []
    notice = reading.offboarding_notice_of(customer, notice_id)
    if notice is None:
        problems.append({"pointer": "/notice", "message": _("Choose one of the notices you received.")})
    try:
        text = _statement(statement)
    except Invalid as invalid:
        problems += invalid.errors
    if problems:
        raise Invalid(problems)
    _lock(notice.case_id)
    already = reading.open_objections(customer, reading.OFFBOARDING_APPEAL, "offboarding_case").get(
        notice.case_id
    )
    if already is not None:
        message = _(
            "Your appeal of this offboarding is already open (case #%(id)d); we will answer it.", id=already
        )
        raise Invalid([{"pointer": "/notice", "message": message}])
    version = _published(reading.OFFBOARDING_APPEAL, customer)
    values = {"/offboarding_case": notice.case_id, "/notice": notice.title[:300], "/customer_statement": text}
    return open_draft(
        version, customer, values, created_by_id=None, actor=None, now=now, parent_case=notice.case_id,
        audit_extra={"self_service_link": link.id, "notice": notice.id},
    )  # fmt: skip
