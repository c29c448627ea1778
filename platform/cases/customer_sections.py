"""The customer page's cases and notices: the customer's newest cases the viewer may read, and
the notices sent to the customer on them (registered in customers.page_sections; the app
factory imports this)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user

from formflow.cases import visibility
from formflow.cases.listing import state_title
from formflow.customers.models import Customer
from formflow.customers.page_sections import Section, section
from formflow.extensions import db
from formflow.records.models import Case
from formflow.workflows.models import NoticeDocument

RECENT = 10


#: candidates read for the RECENT shown (visible() is the coarse filter can_read refines)
CANDIDATES = 5 * RECENT


@section(20)
def cases(customer: Customer) -> Section:
    candidates = db.session.execute(
        sa.select(Case)
        .where(Case.customer_id == customer.id, visibility.visible(current_user))
        .order_by(Case.id.desc())
        .limit(CANDIDATES)
    ).scalars()
    found = [case for case in candidates if visibility.can_read(current_user, case)][:RECENT]
    return Section("cases/_customer_cases.html", {"cases": found, "state_title": state_title})


@section(30)
def notices(customer: Customer) -> Section:
    candidates = db.session.execute(
        sa.select(NoticeDocument, Case)
        .join(Case, NoticeDocument.case_id == Case.id)
        .where(NoticeDocument.customer_id == customer.id, visibility.visible(current_user))
        .order_by(NoticeDocument.id.desc())
        .limit(CANDIDATES)
    ).all()
    found = [notice for notice, case in candidates if visibility.can_read(current_user, case)][:RECENT]
    return Section("cases/_customer_notices.html", {"notices": found})
