"""Reading and creating customers."""

from __future__ import annotations

import re

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


def _equal_ignoring_case(column, folded: str) -> list[Customer]:
    """Up to 10 customers whose `column`, lower-cased, is `folded`, by code."""
    query = sa.select(Customer).where(sa.func.lower(column) == folded).order_by(Customer.code).limit(10)
    return list(db.session.execute(query).scalars())


def choose(text: str) -> Customer:
    """The customer someone typed when starting a case: their code in any case, else their
    name in any case (a match in the very case typed first, for codes and names alike).
    Invalid at /customer when nobody or more than one customer matches."""
    text = (text or "").strip()
    if not text:
        raise Invalid([{"pointer": "/customer", "message": _("Enter a customer code or name.")}])
    folded = text.lower()
    by_code = _equal_ignoring_case(Customer.code, folded)
    exact = [customer for customer in by_code if customer.code == text]
    if exact or len(by_code) == 1:
        return (exact or by_code)[0]
    by_name = _equal_ignoring_case(Customer.name, folded)
    exact = [customer for customer in by_name if customer.name == text]
    if not by_code and len(exact) == 1:
        return exact[0]
    if len(by_code) > 1 or len(by_name) > 1:
        codes = ", ".join(customer.code for customer in by_code or by_name)
        message = _(
            "%(text)s fits more than one customer (%(codes)s): choose one by its code.",
            text=text,
            codes=codes,
        )
        raise Invalid([{"pointer": "/customer", "message": message}])
    if by_name:
        return by_name[0]
    message = _("No customer has the code or name %(text)s.", text=text)
    raise Invalid([{"pointer": "/customer", "message": message}])


def search(text: str | None, *, limit: int = 20) -> list[Customer]:
    """Customers whose code or name contains `text` (any case), for a picker: the code
    itself first, then codes and names that start with it, then the rest by code."""
    text = (text or "").strip()
    if not text:
        return []
    code, name = sa.func.lower(Customer.code), sa.func.lower(Customer.name)
    folded = text.lower()
    rank = sa.case(
        (code == folded, 0),
        (code.startswith(folded, autoescape=True), 1),
        (name.startswith(folded, autoescape=True), 2),
        else_=3,
    )
    query = (
        sa.select(Customer)
        .where(sa.or_(code.contains(folded, autoescape=True), name.contains(folded, autoescape=True)))
        .order_by(rank, Customer.code)
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


#: What a customer code looks like: it goes into paths (/customers/C001, the API's
#: /api/v1/customers/C001), so no "/", space, "%", dot or other character meaning something there.
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


def create(code: str, name: str, tier: str, *, status: str = "active", actor=None) -> Customer:
    """A new customer; Invalid (with each field's pointer) for an empty or malformed code
    (see CODE), name or tier, an unknown status, or a code already taken."""
    code, name, tier = code.strip(), name.strip(), tier.strip()
    errors = []
    if not code:
        errors.append({"pointer": "/code", "message": _("Code is required.")})
    elif len(code) <= 40 and not CODE.fullmatch(code):
        message = _(
            "A code is letters A–Z, digits, “-” and “_”, starting with a letter or digit (e.g. C001)."
        )
        errors.append({"pointer": "/code", "message": message})
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


def update(customer: Customer, changes: dict, *, actor=None) -> Customer:
    """Change a customer's name, tier or status (`changes` holds only those); Invalid with each
    field's pointer for an empty or overlong value, an unknown status or another field."""
    errors = [
        {"pointer": f"/{key}", "message": _("This field cannot be changed here.")}
        for key in changes
        if key not in ("name", "tier", "status")
    ]
    limits = {"name": 200, "tier": 10, "status": 30}
    cleaned = {}
    for key, value in changes.items():
        if key not in limits:
            continue
        if not isinstance(value, str) or not value.strip():
            errors.append({"pointer": f"/{key}", "message": _("Must not be empty.")})
        elif len(value.strip()) > limits[key]:
            errors.append({"pointer": f"/{key}", "message": _("At most %(n)d characters.", n=limits[key])})
        elif key == "status" and value.strip() not in CUSTOMER_STATUSES:
            errors.append({"pointer": "/status", "message": _("Unknown status.")})
        else:
            cleaned[key] = value.strip()
    if errors:
        raise Invalid(errors)
    before = customer.snapshot()
    for key, value in cleaned.items():
        setattr(customer, key, value)
    db.session.flush()
    if customer.snapshot() != before:
        audit.record(
            "customer.update", "customer", customer.id, before=before, after=customer.snapshot(), actor=actor
        )
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
