"""The tier list admins keep: its codes are what a customer's tier may be (and what parameter
tables are keyed by), its names what people read. A tier in use cannot be removed."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from formflow import audit
from formflow.customers.models import Customer, Tier
from formflow.errors import Invalid
from formflow.extensions import db

TIER_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,9}$")


def all_tiers() -> list[Tier]:
    return list(db.session.execute(sa.select(Tier).order_by(Tier.position, Tier.code)).scalars())


def tier_codes() -> list[str]:
    return list(db.session.execute(sa.select(Tier.code).order_by(Tier.position, Tier.code)).scalars())


def tier_labels() -> dict[str, str]:
    return {tier.code: tier.label for tier in all_tiers()}


def save(rows: list[dict], *, actor=None) -> list[Tier]:
    """Replace the tier list by `rows` ([{code, name_zh, name_en}], in their order). Invalid at
    /N/field for an empty, malformed or repeated code, an overlong name, or a tier that
    customers still have and the list no longer names (nothing changed then)."""
    errors, seen = [], set()
    existing = {tier.code: tier for tier in all_tiers()}  # in list order
    before = [{"code": t.code, "name_zh": t.name_zh, "name_en": t.name_en} for t in existing.values()]
    cleaned = []
    for index, row in enumerate(rows):
        code = str(row.get("code") or "").strip()
        names = {key: str(row.get(key) or "").strip() for key in ("name_zh", "name_en")}
        if not code:
            errors.append({"pointer": f"/{index}/code", "message": _("Code is required.")})
        elif not TIER_CODE.fullmatch(code) and code not in existing:  # one from before the list keeps
            message = _("A tier code is up to 10 letters, digits, “-” or “_” (e.g. A or VIP).")
            errors.append({"pointer": f"/{index}/code", "message": message})
        elif code in seen:
            errors.append({"pointer": f"/{index}/code", "message": _("This code is listed twice.")})
        seen.add(code)
        for key, value in names.items():
            if len(value) > 100:
                errors.append(
                    {"pointer": f"/{index}/{key}", "message": _("At most %(n)d characters.", n=100)}
                )
        cleaned.append({"code": code, **names})
    if not cleaned:
        errors.append({"pointer": "", "message": _("Keep at least one tier.")})
    used = db.session.execute(sa.select(Customer.tier, sa.func.count()).group_by(Customer.tier)).all()
    for code, count in used:
        if code not in seen:
            message = _(
                "Tier %(code)s cannot be removed: %(count)d customers have it.", code=code, count=count
            )
            errors.append({"pointer": "", "message": message})
    if errors:
        raise Invalid(errors)
    for position, row in enumerate(cleaned):
        tier = existing.pop(row["code"], None) or Tier(code=row["code"])
        tier.name_zh, tier.name_en, tier.position = row["name_zh"], row["name_en"], position
        db.session.add(tier)
    for tier in existing.values():
        db.session.delete(tier)
    db.session.flush()
    if before != cleaned:
        audit.record("customer.tiers", "customer_tier", None, before={"tiers": before},
                     after={"tiers": cleaned}, actor=actor)  # fmt: skip
    return all_tiers()
