"""The customer page's self-service section: the customer's links (made, expires, last
opened, revoked) with the URL to copy, a form to make one and a button to revoke one; shown to
who may manage them (registered in customers.page_sections; the app factory imports this)."""

from __future__ import annotations

from flask_login import current_user

from formflow.auth.permissions import can
from formflow.customers.models import Customer
from formflow.customers.page_sections import Section, section
from formflow.extensions import utcnow
from formflow.selfservice import links


@section(40)
def self_service(customer: Customer) -> Section | None:
    if not can(current_user, "selfservice.manage"):
        return None
    now = utcnow()
    rows = [(link, link.state(now), links.token_for(link)) for link in links.links_of(customer)]
    return Section(
        "selfservice/_customer_links.html",
        {"rows": rows, "choices": sorted(links.EXPIRY_DAYS), "default_days": links.DEFAULT_DAYS},
    )
