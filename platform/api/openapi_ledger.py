"""The ledger's part of the OpenAPI document: postings with an Idempotency-Key, a customer's
balances and entries."""

from __future__ import annotations

from formflow.api.openapi_responses import error_response, json_response

MONEY = {"type": "number", "multipleOf": 0.01}
BALANCES = {
    "type": "object",
    "description": "Each customer account's balance, exact to the cent",
    "required": ["prepaid", "deposit", "receivable"],
    "properties": {"prepaid": MONEY, "deposit": MONEY, "receivable": MONEY},
}

LEDGER_SCHEMAS = {
    "Balances": BALANCES,
    "Posting": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "customer": {"type": "string"},
            "kind": {"type": "string", "enum": ["top_up", "usage"]},
            "amount": MONEY,
            "memo": {"type": "string"},
            "reference": {"type": "string"},
            "posted_at": {"type": "string", "format": "date-time"},
            "balances": {"$ref": "#/components/schemas/Balances"},
        },
    },
    "Entries": {
        "type": "object",
        "properties": {
            "account": {"type": "string"},
            "entries": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "journal": {"type": "integer"},
                        "kind": {"type": "string"},
                        "posted_at": {"type": "string", "format": "date-time"},
                        "amount": {**MONEY, "description": "What it added to the balance (negative: took)"},
                        "balance_after": MONEY,
                        "memo": {"type": "string"},
                        "reference": {"type": "string"},
                        "case": {"type": ["integer", "null"]},
                    },
                },
            },
            "next": {"type": ["string", "null"], "description": "The next (older) page"},
        },
    },
}

LEDGER_PATHS = {
    "/ledger/postings": {
        "post": {
            "summary": "Post a top-up or a usage for a customer, once per Idempotency-Key",
            "description": "The same key and body again answers 200 with the first answer (header "
            "Idempotent-Replayed: true); the same key with another body is a 409. Finance and admin only.",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["customer", "kind", "amount"],
                            "properties": {
                                "customer": {"type": "string"},
                                "kind": {"type": "string", "enum": ["top_up", "usage"]},
                                "amount": {**MONEY, "exclusiveMinimum": 0, "maximum": 10**15},
                                "memo": {"type": "string", "maxLength": 500},
                                "reference": {"type": "string", "maxLength": 200},
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": json_response("Posted", "#/components/schemas/Posting"),
                "200": json_response("A replay of the same key and body", "#/components/schemas/Posting"),
                "400": error_response("Body is not JSON"),
                "401": error_response("Missing or invalid token"),
                "403": error_response("Not allowed to move money"),
                "404": error_response("No such customer"),
                "409": error_response("The key was used for another posting"),
                "422": error_response("Invalid data or a short balance, with JSON Pointers"),
            },
        }
    },
    "/customers/{code}/entries": {
        "get": {
            "summary": "A customer account's entries, newest first (keyset pages)",
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},
                {
                    "name": "account",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["prepaid", "deposit", "receivable"]},
                },
                {"name": "before", "in": "query", "schema": {"type": "integer"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            ],
            "responses": {
                "200": json_response("The entries", "#/components/schemas/Entries"),
                "401": error_response("Missing or invalid token"),
                "403": error_response("Not allowed"),
                "404": error_response("No such customer or account"),
            },
        }
    },
}

WEBHOOK_PATHS = {
    "/webhooks/payments": {
        "post": {
            "summary": "A signed payment event (online payment or auto-debit), confirmed once per event id",
            "description": (
                "No bearer token: the header Formflow-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "
                '"<t>.<raw body>"> with FORMFLOW_PAYMENT_WEBHOOK_SECRET authenticates, within five '
                "minutes of the server's clock. The same event again is acknowledged with "
                '"duplicate": true and posts nothing.'
            ),
            "security": [],
            "parameters": [
                {"name": "Formflow-Signature", "in": "header", "required": True, "schema": {"type": "string"}}
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentEvent"}}},
            },
            "responses": {
                "200": json_response(
                    "Confirmed (or already confirmed)", "#/components/schemas/PaymentReceived"
                ),
                "400": error_response("No, a wrong or an old signature; not JSON"),
                "409": error_response("The event id was received before with other content"),
                "422": error_response("An unknown event type, customer or invoice, or a bad amount"),
                "403": error_response("No webhook secret is configured: no event is accepted"),
            },
        }
    }
}
WEBHOOK_SCHEMAS = {
    "PaymentEvent": {
        "type": "object",
        "required": ["id", "type", "created", "data"],
        "properties": {
            "id": {"type": "string"},
            "type": {"type": "string", "enum": ["auto_debit.succeeded", "payment.succeeded"]},
            "created": {"type": "integer", "description": "Unix seconds"},
            "data": {
                "type": "object",
                "required": ["customer", "amount"],
                "properties": {
                    "customer": {"type": "string"},
                    "amount": {"type": ["string", "number"], "description": "Exact to the cent"},
                    "reference": {"type": "string"},
                    "paid_on": {"type": "string", "format": "date"},
                    "invoice": {"type": "string", "description": "Pay this invoice (else oldest first)"},
                },
            },
        },
    },
    "PaymentReceived": {
        "type": "object",
        "properties": {
            "event": {"type": "string"},
            "duplicate": {"type": "boolean"},
            "payment": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "amount": {"type": "string"},
                    "to_prepaid": {"type": "string"},
                    "invoices": {"type": "array", "items": {"type": "array"}},
                },
            },
        },
    },
}
