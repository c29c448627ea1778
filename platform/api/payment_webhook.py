"""`POST /api/v1/webhooks/payments`: signed payment events from the payment provider (no bearer
token: the signature is the authentication; see formflow.billing.webhooks)."""

from __future__ import annotations

from flask import jsonify, request

from formflow.api.views import bp
from formflow.billing import webhooks
from formflow.extensions import db


@bp.route("/webhooks/payments", methods=["POST"])
def payment_webhook():
    received = webhooks.receive(request.headers.get(webhooks.HEADER), request.get_data(cache=True))
    db.session.commit()
    payment = received.payment
    return jsonify(
        {
            "event": received.delivery.event_id,
            "duplicate": received.duplicate,
            "payment": {
                "id": payment.id,
                "amount": str(payment.amount),
                "to_prepaid": str(payment.to_prepaid),
                "invoices": [[a.invoice.number, str(a.amount)] for a in payment.allocations],
            },
        }
    )
