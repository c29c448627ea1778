"""The ledger through the API, for integrations (usage from another system, a top-up recorded
in a CRM): `POST /api/v1/ledger/postings` with an `Idempotency-Key`, and a customer's
entries newest first (`GET /api/v1/customers/{code}/entries`)."""

from __future__ import annotations

from flask import g, jsonify, request, url_for
from flask_babel import gettext as _

from formflow.api.body import json_object, text_field
from formflow.api.views import bp
from formflow.auth.permissions import require
from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import balances
from formflow.ledger import services as ledger
from formflow.money import amount as money_amount

#: what an integration may post
API_KINDS = ("top_up", "usage")
KEY_HEADER = "Idempotency-Key"


@bp.route("/ledger/postings", methods=["POST"])
def ledger_post():
    require(g.api_user, "ledger.post")
    key = (request.headers.get(KEY_HEADER) or "").strip()
    if not key or len(key) > ledger.MAX_KEY:
        message = _("Send the header Idempotency-Key (1 to %(n)d characters).", n=ledger.MAX_KEY)
        raise Invalid([{"pointer": "/headers/Idempotency-Key", "message": message}])
    body = json_object()
    kind = text_field(body, "kind")
    if kind not in API_KINDS:
        message = _("The kind is one of: %(kinds)s.", kinds=", ".join(API_KINDS))
        raise Invalid([{"pointer": "/kind", "message": message}])
    customer = customers.get_by_code(text_field(body, "customer"))
    journal = ledger.post_for_customer(
        customer,
        kind,
        money_amount(body.get("amount")),
        key=f"api:{key}",
        memo=text_field(body, "memo"),
        reference=text_field(body, "reference"),
        actor=g.api_user,
    )
    replayed = getattr(journal, "replayed", False)
    db.session.commit()
    response = jsonify(posting_json(journal, customer))
    response.status_code = 200 if replayed else 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def posting_json(journal, customer) -> dict:
    """A posting as the API answers it (the same for its replays): the balances after it."""
    moved = next(entry for entry in journal.entries if entry.account.customer_id == customer.id)
    return {
        "id": journal.id,
        "customer": customer.code,
        "kind": journal.kind,
        "amount": abs(moved.amount),
        "memo": journal.memo,
        "reference": journal.reference,
        "posted_at": journal.posted_at.isoformat(timespec="seconds") + "Z",
        "balances": balances.balances_after(customer, journal),
    }


@bp.route("/customers/<code>/entries")
def customer_entries(code: str):
    require(g.api_user, "customers.read")
    customer = customers.get_by_code(code)
    account = request.args.get("account", "prepaid")
    before = request.args.get("before", type=int)
    limit = min(max(request.args.get("limit", balances.PAGE_SIZE, type=int), 1), 200)
    page = balances.entries(customer, account, before=before, limit=limit)
    return jsonify(
        {
            "account": account,
            "entries": [
                {
                    "id": entry.id,
                    "journal": entry.journal_id,
                    "kind": entry.journal.kind,
                    "posted_at": entry.posted_at.isoformat(timespec="seconds") + "Z",
                    "amount": entry.amount * entry.account.sign,  # what it added to the balance
                    "balance_after": entry.balance_after,
                    "memo": entry.journal.memo,
                    "reference": entry.journal.reference,
                    "case": entry.journal.case_id,
                }
                for entry in page.entries
            ],
            "next": url_for(
                "api.customer_entries", code=code, account=account, limit=limit, before=page.next_before
            )
            if page.next_before
            else None,
        }
    )
