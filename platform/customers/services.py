"""Reading and creating customers."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.customers.models import CUSTOMER_STATUSES, Customer
from formflow.errors import Invalid, NotFound
from formflow.extensions import db


def get_by_code(code: str) -> Customer:
    customer = db.session.execute(sa.select(Customer).where(Customer.code == code)).scalar_one_or_none()
    if customer is None:
        raise NotFound(_("No customer with code %(code)s.", code=code))
    return customer


def create(code: str, name: str, tier: str, *, status: str = "active", actor=None) -> Customer:
    code, name, tier = code.strip(), name.strip(), tier.strip()
    errors = []
    if not code:
        errors.append({"pointer": "/code", "message": _("Code is required.")})
    if not name:
        errors.append({"pointer": "/name", "message": _("Name is required.")})
    if not tier:
        errors.append({"pointer": "/tier", "message": _("Tier is required.")})
    for field, value, limit in (("code", code, 40), ("name", name, 200), ("tier", tier, 10)):
        if len(value) > limit:
            errors.append({"pointer": f"/{field}", "message": _("At most %(n)d characters.", n=limit)})
    if status not in CUSTOMER_STATUSES:
        errors.append({"pointer": "/status", "message": _("Unknown status.")})
    if errors:
        raise Invalid(errors)
    if db.session.execute(sa.select(Customer.id).where(Customer.code == code)).first():
        raise Invalid([{"pointer": "/code", "message": _("This code is already taken.")}])
    customer = Customer(code=code, name=name, tier=tier, status=status)
    db.session.add(customer)
    db.session.flush()
    audit.record("customer.create", "customer", customer.id, after=customer.snapshot(), actor=actor)
    return customer


def page(
    *, text: str | None, tier: str | None, after_code: str | None, size: int
) -> tuple[list[Customer], str | None]:
    """Customers by code, keyset-paginated; returns the rows and the next cursor."""
    query = sa.select(Customer)
    if text:
        text = text.strip()
        query = query.where(
            sa.or_(
                Customer.code.icontains(text, autoescape=True),
                Customer.name.icontains(text, autoescape=True),
            )
        )
    if tier:
        query = query.where(Customer.tier == tier)
    if after_code:
        query = query.where(Customer.code > after_code)
    rows = list(db.session.execute(query.order_by(Customer.code).limit(size + 1)).scalars())
    next_cursor = rows[size - 1].code if len(rows) > size else None
    return rows[:size], next_cursor
