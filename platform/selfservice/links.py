"""Self-service links: staff make one for a customer (an expiry to choose), see them, revoke
one; the customer's URL carries a token signed with itsdangerous (salt "self-service") naming
the row by its id and nonce. Opening checks the signature, its age and the row (not revoked,
not past expires_at); what is wrong is said in general words only (LinkProblem), never which
customer the link was for."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from formflow import audit
from formflow.customers.models import Customer
from formflow.errors import Invalid
from formflow.extensions import db, utcnow
from formflow.selfservice.models import SelfServiceLink

SALT = "self-service"
#: the expiries staff choose from, in days; the first default
EXPIRY_DAYS = (30, 7, 14, 90, 180)
DEFAULT_DAYS = 30
#: no token is older than the longest expiry (the row says when its own link ends)
MAX_AGE = timedelta(days=max(EXPIRY_DAYS))
#: the links the customer page lists
LISTED = 20


class LinkProblem(Exception):
    """Why a self-service token opens nothing: "expired", "revoked" or "invalid" (tampered,
    unknown, malformed)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind

    @property
    def status(self) -> int:
        return 404 if self.kind == "invalid" else 410


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(link: SelfServiceLink) -> str:
    """The token of the link's URL (signed now; every token of a row opens it while it is valid)."""
    return _serializer().dumps([link.id, link.nonce])


def expiry_days(value) -> int:
    """The expiry staff chose, in days; Invalid at /days unless it is one of EXPIRY_DAYS."""
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        days = 0
    if days not in EXPIRY_DAYS:
        choices = ", ".join(str(d) for d in sorted(EXPIRY_DAYS))
        raise Invalid(
            [
                {
                    "pointer": "/days",
                    "message": _("Choose how long the link works: %(days)s days.", days=choices),
                }
            ]
        )
    return days


def create(
    customer: Customer, days, *, actor, note: str = "", now: datetime | None = None
) -> SelfServiceLink:
    """A new link for `customer`, working `days` days from now (audited)."""
    now = now or utcnow()
    length = expiry_days(days)
    note = (note or "").strip()
    if len(note) > 200:
        raise Invalid([{"pointer": "/note", "message": _("At most %(n)d characters.", n=200)}])
    link = SelfServiceLink(
        customer_id=customer.id, nonce=secrets.token_urlsafe(32), created_by_id=getattr(actor, "id", None),
        created_at=now, expires_at=now + timedelta(days=length), note=note,
    )  # fmt: skip
    db.session.add(link)
    db.session.flush()
    audit.record("selfservice.link_create", "self_service_link", link.id, after=_described(link), actor=actor)
    return link


def revoke(link: SelfServiceLink, *, actor, now: datetime | None = None) -> SelfServiceLink:
    """The link opens nothing from now on (audited); revoking it again changes nothing."""
    if link.revoked_at is not None:
        return link
    before = _described(link)
    link.revoked_at = now or utcnow()
    link.revoked_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(
        "selfservice.link_revoke",
        "self_service_link",
        link.id,
        before=before,
        after=_described(link),
        actor=actor,
    )
    return link


def _described(link: SelfServiceLink) -> dict:
    return {
        "customer_id": link.customer_id,
        "expires_at": link.expires_at.isoformat(),
        "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
        "note": link.note,
    }


def links_of(customer: Customer, *, limit: int = LISTED) -> list[SelfServiceLink]:
    """The customer's links, newest first."""
    return list(
        db.session.execute(
            sa.select(SelfServiceLink)
            .where(SelfServiceLink.customer_id == customer.id)
            .order_by(SelfServiceLink.id.desc())
            .limit(limit)
        ).scalars()
    )


def link_of(customer: Customer, link_id: int) -> SelfServiceLink:
    """One of the customer's links; Invalid when there is none by that id."""
    link = db.session.get(SelfServiceLink, link_id)
    if link is None or link.customer_id != customer.id:
        raise Invalid([{"pointer": "/link", "message": _("This customer has no such self-service link.")}])
    return link


def resolve(token: str, *, now: datetime | None = None) -> SelfServiceLink:
    """The link a token opens; LinkProblem when it opens none."""
    now = now or utcnow()
    try:
        payload = _serializer().loads(token or "", max_age=int(MAX_AGE.total_seconds()))
    except SignatureExpired:
        raise LinkProblem("expired") from None
    except BadSignature:
        raise LinkProblem("invalid") from None
    if not (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and not isinstance(payload[0], bool)
        and isinstance(payload[1], str)
        and 0 < payload[0] < 2**31
    ):
        raise LinkProblem("invalid")
    link = db.session.get(SelfServiceLink, payload[0])
    if link is None or not secrets.compare_digest(link.nonce, payload[1]):
        raise LinkProblem("invalid")
    state = link.state(now)
    if state != "active":
        raise LinkProblem(state)
    return link


def opened(link: SelfServiceLink, now: datetime | None = None) -> None:
    """Note that the link served a page or a file (one atomic update: no lost counts)."""
    now = now or utcnow()
    db.session.execute(
        sa.update(SelfServiceLink)
        .where(SelfServiceLink.id == link.id)
        .values(last_opened_at=now, opened_count=SelfServiceLink.opened_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(link, ["last_opened_at", "opened_count"])
