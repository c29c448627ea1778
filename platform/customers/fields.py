"""A customer's fields as people and files give them: trimmed, checked, each problem at its
pointer (/code, /tier, /contacts/0/email) — shared by the create and edit pages, the API and
the import."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from formflow.customers.models import CUSTOMER_STATUSES

#: What a customer code looks like: it goes into paths (/customers/C001, the API's
#: /api/v1/customers/C001), so no "/", space, "%", dot or other character meaning something there.
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
#: codes that are pages of the customer list (/customers/new…), so no customer can have them
RESERVED_CODES = frozenset({"new", "tiers", "import", "search"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: digits with the separators people write (+86 21 6123-4567, (021) 61234567 转 8001)
PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]*(?:(?:转|ext\.?|x) ?[0-9]{1,6})?$", re.IGNORECASE)
LIMITS = {"code": 40, "name": 200, "tier": 10}
CONTACT_LIMITS = {"person": 100, "phone": 40, "email": 200, "address": 300}
MAX_CONTACTS = 10


def clean(values: dict, *, tiers: list[str], partial: bool = False) -> tuple[dict, list[dict]]:
    """The fields of `values` (code, name, tier, status, contacts) cleaned, and the problems
    found. `partial`: only the fields given are checked (an edit); else code, name and tier
    are required (a new customer)."""
    cleaned, errors = {}, []

    def problem(pointer: str, message: str) -> None:
        errors.append({"pointer": pointer, "message": message})

    for key in ("code", "name", "tier"):
        if partial and key not in values:
            continue
        value = values.get(key)
        if value is not None and not isinstance(value, str | int):
            problem(f"/{key}", _("Must be text."))
            continue
        text = str(value if value is not None else "").strip()
        if not text:
            problem(f"/{key}", _("This field is required."))
        elif len(text) > LIMITS[key]:
            problem(f"/{key}", _("At most %(n)d characters.", n=LIMITS[key]))
        elif key == "code" and not CODE.fullmatch(text):
            message = _(
                "A code is letters A–Z, digits, “-” and “_”, starting with a letter or digit (e.g. C001)."
            )
            problem("/code", message)
        elif key == "code" and text in RESERVED_CODES:
            problem("/code", _("“%(code)s” is reserved; choose another code.", code=text))
        elif key == "tier" and text not in tiers:
            message = _("Unknown tier %(tier)s: the tiers are %(tiers)s.", tier=text, tiers=", ".join(tiers))
            problem("/tier", message)
        else:
            cleaned[key] = text
    if "status" in values:
        status = values.get("status")
        status = status.strip() if isinstance(status, str) else status
        if status in (None, "") and not partial:
            cleaned["status"] = "active"
        elif status not in CUSTOMER_STATUSES:
            problem("/status", _("Unknown status."))
        else:
            cleaned["status"] = status
    if "contacts" in values:
        contacts, contact_errors = clean_contacts(values.get("contacts"))
        cleaned["contacts"] = contacts
        errors += contact_errors
    return cleaned, errors


def clean_contacts(given) -> tuple[list[dict], list[dict]]:
    """A list of contacts ({person, phone, email, address}); a contact with every field empty
    is dropped (a company switchboard without a person is a contact too)."""
    if given is None:
        return [], []
    if not isinstance(given, list):
        return [], [{"pointer": "/contacts", "message": _("Must be a list of contacts.")}]
    if len(given) > MAX_CONTACTS:
        return [], [{"pointer": "/contacts", "message": _("At most %(n)d contacts.", n=MAX_CONTACTS)}]
    contacts, errors = [], []
    for index, contact in enumerate(given):
        where = f"/contacts/{index}"
        if not isinstance(contact, dict):
            errors.append({"pointer": where, "message": _("Must be an object.")})
            continue
        unknown = sorted(set(contact) - set(CONTACT_LIMITS))
        errors += [{"pointer": f"{where}/{key}", "message": _("Unknown field.")} for key in unknown]
        row = {}
        for key, limit in CONTACT_LIMITS.items():
            value = contact.get(key)
            text = str(value).strip() if isinstance(value, str | int) else ""
            if value is not None and not isinstance(value, str | int):
                errors.append({"pointer": f"{where}/{key}", "message": _("Must be text.")})
            elif len(text) > limit:
                errors.append(
                    {"pointer": f"{where}/{key}", "message": _("At most %(n)d characters.", n=limit)}
                )
            row[key] = text
        if not any(row.values()):
            continue
        if row["email"] and not EMAIL.fullmatch(row["email"]):
            errors.append({"pointer": f"{where}/email", "message": _("Not an e-mail address.")})
        if row["phone"] and not PHONE.fullmatch(row["phone"]):
            message = _("Not a phone number: digits, with spaces, “-”, “+” or brackets.")
            errors.append({"pointer": f"{where}/phone", "message": message})
        contacts.append(row)
    return contacts, errors
