"""Reading and creating customers."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.customers import fields, statuses
from formflow.customers.models import Contact, Customer, StatusChange
from formflow.customers.tiers import tier_codes
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


def create(
    code: str, name: str, tier: str, *, status: str = "active", contacts=(), actor=None, reason: str = ""
) -> Customer:
    """A new customer; Invalid (with each field's pointer) for an empty or malformed code
    (see fields.CODE), name or tier, a tier not on the tier list, an unknown status, a bad
    contact, or a code already taken."""
    values = {"code": code, "name": name, "tier": tier, "status": status, "contacts": list(contacts)}
    cleaned, errors = fields.clean(values, tiers=tier_codes())
    if cleaned.get("status") == "blacklisted":
        message = _("A new customer cannot start on the blacklist: create it, then use the blacklist.")
        errors.append({"pointer": "/status", "message": message})
    if not isinstance(reason, str) or len(reason) > 2000:
        errors.append({"pointer": "/reason", "message": _("A reason is text of at most 2000 characters.")})
    if errors:
        raise Invalid(errors)
    taken = sa.select(Customer.code).where(sa.func.lower(Customer.code) == cleaned["code"].lower())
    same = db.session.execute(taken).scalar()
    if same is not None:
        message = (
            _("This code is already taken.")
            if same == cleaned["code"]
            else _(
                "This code is already taken (as %(code)s: codes differ by more than letter case).", code=same
            )
        )
        raise Invalid([{"pointer": "/code", "message": message}])
    customer = Customer(code=cleaned["code"], name=cleaned["name"], tier=cleaned["tier"],
                        status=cleaned["status"])  # fmt: skip
    customer.contacts = [Contact(position=i, **row) for i, row in enumerate(cleaned["contacts"])]
    db.session.add(customer)
    db.session.flush()
    db.session.add(StatusChange(customer_id=customer.id, before=None, after=customer.status,
                                reason=reason, actor_id=getattr(actor, "id", None)))  # fmt: skip
    audit.record("customer.create", "customer", customer.id, after=full_snapshot(customer), actor=actor)
    return customer


def full_snapshot(customer: Customer) -> dict:
    """The customer with its contacts, as the API answers and the audit log keeps it."""
    return customer.snapshot() | {
        "contacts": customer.contact_list(),
        "credit_flag": bool(customer.credit_flag),
    }


#: what an edit may change; `reason` goes with a status change
EDITABLE = ("name", "tier", "status", "contacts", "credit_flag", "reason")


def update(customer: Customer, changes: dict, *, actor=None, case_id: int | None = None) -> Customer:
    """Change a customer's name, tier, contacts or status (with `reason`); Invalid with each
    field's pointer for an empty, overlong or unknown value, or a field that cannot change."""
    errors = [
        {"pointer": f"/{key}", "message": _("This field cannot be changed here.")}
        for key in changes
        if key not in EDITABLE
    ]
    reason = changes.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 2000:
        errors.append({"pointer": "/reason", "message": _("A reason is text of at most 2000 characters.")})
    if "credit_flag" in changes and not isinstance(changes["credit_flag"], bool):
        errors.append({"pointer": "/credit_flag", "message": _("Must be true or false.")})
    given = {
        key: value
        for key, value in changes.items()
        if key in EDITABLE and key not in ("reason", "credit_flag")
    }
    cleaned, problems = fields.clean(given, tiers=tier_codes(), partial=True)
    errors += problems
    if "status" in cleaned:
        try:
            statuses.refuse_blacklist_change(customer.status, cleaned["status"])
        except Invalid as refused:
            errors += refused.errors
    if errors:
        raise Invalid(errors)
    before = full_snapshot(customer)
    for key in ("name", "tier"):
        if key in cleaned:
            setattr(customer, key, cleaned[key])
    if isinstance(changes.get("credit_flag"), bool):
        customer.credit_flag = changes["credit_flag"]
    if "contacts" in cleaned and cleaned["contacts"] != customer.contact_list():
        customer.contacts = [Contact(position=i, **row) for i, row in enumerate(cleaned["contacts"])]
    db.session.flush()
    after = full_snapshot(customer)
    if after != before:
        audit.record("customer.update", "customer", customer.id, before=before, after=after, actor=actor)
    if "status" in cleaned:
        statuses.set_status(customer, cleaned["status"], reason=reason.strip(), actor=actor, case_id=case_id)
    return customer


def page(
    *, text: str | None, tier: str | None, after_code: str | None, size: int, status: str | None = None
) -> tuple[list[Customer], str | None]:
    """Customers by code, keyset-paginated; returns the rows and the next cursor."""
    query = filtered(text=text, tier=tier, status=status)
    if after_code:
        query = query.where(Customer.code > after_code)
    rows = list(db.session.execute(query.order_by(Customer.code).limit(size + 1)).scalars())
    next_cursor = rows[size - 1].code if len(rows) > size else None
    return rows[:size], next_cursor


def filtered(*, text: str | None = None, tier: str | None = None, status: str | None = None):
    """The customers a list shows for its filters (code or name containing `text`, any case)."""
    query = sa.select(Customer)
    text = (text or "").strip()
    if text:
        query = query.where(
            sa.or_(
                Customer.code.icontains(text, autoescape=True),
                Customer.name.icontains(text, autoescape=True),
            )
        )
    if tier:
        query = query.where(Customer.tier == tier)
    if status:
        query = query.where(Customer.status == status)
    return query
