"""What the self-service pages show of one customer — only ever the customer the link is for:
balances, entries, statement months, invoices with their instalments, the notices sent on the
customer's cases and the payment reminders, and the deductions (with any dispute open)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from formflow.billing import invoices as billing_invoices
from formflow.billing.models import Invoice, Reminder
from formflow.customers.models import Customer
from formflow.extensions import db
from formflow.ledger import statement_run, statements
from formflow.ledger.models import Account, Entry, Journal
from formflow.processes.models import Process
from formflow.records.models import Case
from formflow.rules.operators import OperatorFailure, to_money
from formflow.workflows.models import NoticeDocument

#: the process a deduction is made by, and the ones a customer's objection starts
DEDUCTION = "deduction"
DEDUCTION_DISPUTE = "deduction_dispute"
OFFBOARDING = "offboarding"
OFFBOARDING_APPEAL = "offboarding_appeal"
#: how many of each the pages list
LISTED = 50
#: statement months offered besides those issued
RECENT_MONTHS = 6


@dataclass
class Deduction:
    case_id: int
    amount: Decimal
    posted_at: datetime
    memo: str
    reversed: bool
    #: the open dispute case of it, if any
    dispute_id: int | None

    @property
    def disputable(self) -> bool:
        return not self.reversed and self.dispute_id is None


@dataclass
class Notice:
    document: NoticeDocument
    process: str
    #: "dispute" (a deduction's notice), "appeal" (an offboarding notice) or ""
    objection: str
    #: the open dispute or appeal already made against it, if any
    open_case_id: int | None


def _open_cases(customer: Customer, process_key: str) -> list[Case]:
    return list(
        db.session.execute(
            sa.select(Case)
            .join(Process, Process.id == Case.process_id)
            .where(Case.customer_id == customer.id, Process.key == process_key, Case.closed_at.is_(None))
            .order_by(Case.id)
        ).scalars()
    )


def open_objections(customer: Customer, process_key: str, field: str) -> dict[int, int]:
    """{case objected to: the open dispute/appeal case}, read from each open case's `field`."""
    found: dict[int, int] = {}
    for case in _open_cases(customer, process_key):
        target = (case.data or {}).get(field)
        if isinstance(target, int) and not isinstance(target, bool):
            found.setdefault(target, case.id)
    return found


def deduction_amount(case: Case) -> Decimal | None:
    try:
        return to_money((case.data or {}).get("amount"))
    except OperatorFailure:
        return None


def deductions(customer: Customer) -> list[Deduction]:
    """The deductions posted to the customer (newest first): each deduction case with its
    posting, whether it was reversed, and its open dispute."""
    rows = db.session.execute(
        sa.select(Journal, Case)
        .join(Case, Case.id == Journal.case_id)
        .join(Process, Process.id == Case.process_id)
        .where(Journal.kind == "deduction", Case.customer_id == customer.id, Process.key == DEDUCTION)
        .order_by(Journal.id.desc())
        .limit(LISTED)
    ).all()
    reversed_ids = set(
        db.session.execute(
            sa.select(Journal.reverses_id).where(Journal.reverses_id.in_([j.id for j, _c in rows]))
        ).scalars()
    )
    disputes = open_objections(customer, DEDUCTION_DISPUTE, "deduction_case")
    found, seen = [], set()
    for journal, case in rows:
        if case.id in seen:
            continue
        seen.add(case.id)
        amount = deduction_amount(case)
        if amount is None:
            continue
        found.append(
            Deduction(
                case.id,
                amount,
                journal.posted_at,
                journal.memo,
                journal.id in reversed_ids,
                disputes.get(case.id),
            )
        )
    return found


def deduction_of(customer: Customer, case_id) -> Deduction | None:
    """The customer's posted deduction of that case, else None (another customer's, no deduction)."""
    return next((d for d in deductions(customer) if str(d.case_id) == str(case_id).strip()), None)


def notices(customer: Customer) -> list[Notice]:
    """The notices sent to the customer on its cases, newest first, each saying whether it
    may be disputed (a deduction's) or appealed (an offboarding notice)."""
    rows = db.session.execute(
        sa.select(NoticeDocument, Process.key)
        .join(Case, Case.id == NoticeDocument.case_id)
        .join(Process, Process.id == Case.process_id)
        .where(NoticeDocument.customer_id == customer.id, Case.customer_id == customer.id)
        .order_by(NoticeDocument.id.desc())
        .limit(LISTED)
    ).all()
    disputes = open_objections(customer, DEDUCTION_DISPUTE, "deduction_case")
    appeals = open_objections(customer, OFFBOARDING_APPEAL, "offboarding_case")
    disputable = {d.case_id for d in deductions(customer) if not d.reversed}
    found = []
    for document, key in rows:
        if key == DEDUCTION and document.case_id in disputable:
            found.append(Notice(document, key, "dispute", disputes.get(document.case_id)))
        elif key == OFFBOARDING:
            found.append(Notice(document, key, "appeal", appeals.get(document.case_id)))
        else:
            found.append(Notice(document, key, "", None))
    return found


def offboarding_notice_of(customer: Customer, notice_id) -> NoticeDocument | None:
    """The customer's offboarding notice by its id, else None."""
    try:
        wanted = int(str(notice_id).strip())
    except (TypeError, ValueError):
        return None
    return next(
        (n.document for n in notices(customer) if n.objection == "appeal" and n.document.id == wanted), None
    )


def reminders(customer: Customer) -> list[Reminder]:
    return list(
        db.session.execute(
            sa.select(Reminder)
            .where(Reminder.customer_id == customer.id)
            .order_by(Reminder.id.desc())
            .limit(LISTED)
        ).scalars()
    )


def invoices(customer: Customer) -> list[Invoice]:
    """The customer's invoices, newest first (instalments loaded with them), void ones left out."""
    return [i for i in billing_invoices.for_customer(customer.id, limit=LISTED) if i.status != "void"]


def statement_months(customer: Customer, now: datetime | None = None) -> list[str]:
    """The months a statement is offered for, newest first: this month and the recent ones the
    customer had entries in, and every month a statement was issued for."""
    current = statements.current_period(now)
    year, month = statements.parse_period(current)
    months = []
    for back in range(RECENT_MONTHS):
        y, m = divmod((year * 12 + month - 1) - back, 12)
        months.append(f"{y:04d}-{m + 1:02d}")
    first = db.session.execute(
        sa.select(sa.func.min(Entry.posted_at))
        .join(Account, Account.id == Entry.account_id)
        .where(Account.customer_id == customer.id)
    ).scalar_one_or_none()
    oldest = statements.current_period(first.replace(tzinfo=UTC)) if first else current
    issued = {issue.period for issue in statement_run.issued_for(customer)}
    return sorted({m for m in months if m >= oldest} | issued | {current}, reverse=True)


def filed_case(customer: Customer, case_id: int | None) -> Case | None:
    """A dispute or appeal of the customer's, by its id (to confirm it was filed), else None."""
    if case_id is None:
        return None
    case = db.session.get(Case, case_id)
    if case is None or case.customer_id != customer.id:
        return None
    return case if case.process.key in (DEDUCTION_DISPUTE, OFFBOARDING_APPEAL) else None
