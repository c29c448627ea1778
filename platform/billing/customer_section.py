"""The customer page's management-fee section: the customer's subscriptions, the latest
charges the fee run made, the invoices with their status, the late-payment record and the
reminders sent (registered in customers.page_sections; the app factory imports this).
Shown to those who may read management fees, and only to customers who have a subscription or an invoice."""

from __future__ import annotations

import sqlalchemy as sa
from flask_login import current_user

from formflow.auth.permissions import can
from formflow.billing import invoices, reminders
from formflow.billing.late import late_record
from formflow.billing.models import FeeCharge, FeePlan, Subscription
from formflow.billing.plans import item_titles, latest_version
from formflow.customers.models import Customer
from formflow.customers.page_sections import Section, section
from formflow.extensions import db
from formflow.rules.operators import business_today

RECENT = 12


@section(20)
def fees(customer: Customer) -> Section | None:
    if not can(current_user, "billing.read"):
        return None
    subscriptions = db.session.execute(
        sa.select(Subscription, FeePlan)
        .join(FeePlan, FeePlan.id == Subscription.plan_id)
        .where(Subscription.customer_id == customer.id)
        .order_by(Subscription.id)
    ).all()
    found_invoices = invoices.for_customer(customer.id, limit=RECENT)
    if not subscriptions and not found_invoices:
        return None
    charges = list(
        db.session.execute(
            sa.select(FeeCharge)
            .where(FeeCharge.subscription_id.in_([subscription.id for subscription, _plan in subscriptions]))
            .order_by(FeeCharge.id.desc())
            .limit(RECENT)
        ).scalars()
    )
    today = business_today()
    return Section(
        "billing/_customer_section.html",
        {
            "subscriptions": subscriptions, "charges": charges, "invoices": found_invoices,
            "titles": item_titles(latest_version(plan.id) for plan in {plan for _s, plan in subscriptions}),
            "plan_of": {subscription.id: subscription.plan_id for subscription, _plan in subscriptions},
            "today": today, "status_on": invoices.status_on, "status_label": invoices.status_label,
            "late": late_record(customer.id, today),
            "reminders": reminders.for_customer(customer.id, limit=RECENT),
        },
    )  # fmt: skip
