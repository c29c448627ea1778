"""The OpenAPI 3.1 document of the API; each later feature adds its paths (openapi_*.py) here."""

from __future__ import annotations

from formflow.api.openapi_case_paths import CASE_PATHS
from formflow.api.openapi_case_schemas import CASE_SCHEMAS
from formflow.api.openapi_ledger import LEDGER_PATHS, LEDGER_SCHEMAS, WEBHOOK_PATHS, WEBHOOK_SCHEMAS
from formflow.api.openapi_processes import PROCESS_PATHS, PROCESS_SCHEMAS
from formflow.api.openapi_responses import ERRORS, error_response, json_response
from formflow.customers.fields import CODE as CUSTOMER_CODE
from formflow.customers.models import CUSTOMER_STATUSES

CUSTOMER = "#/components/schemas/Customer"
CONTACT = {
    "type": "object",
    "properties": {
        "person": {"type": "string", "maxLength": 100},
        "phone": {"type": "string", "maxLength": 40},
        "email": {"type": "string", "maxLength": 200},
        "address": {"type": "string", "maxLength": 300},
    },
}
#: what a customer's create and PATCH bodies share
CUSTOMER_FIELDS = {
    "name": {"type": "string", "maxLength": 200},
    "tier": {"type": "string", "maxLength": 10, "description": "A code of the tier list"},
    "status": {"type": "string", "enum": list(CUSTOMER_STATUSES)},
    "contacts": {"type": "array", "items": CONTACT, "maxItems": 10},
    "reason": {"type": "string", "maxLength": 2000, "description": "Why the status changes (its history)"},
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Formflow API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Errors": ERRORS,
                **PROCESS_SCHEMAS,
                **CASE_SCHEMAS,
                **LEDGER_SCHEMAS,
                **WEBHOOK_SCHEMAS,
                "Me": {
                    "type": "object",
                    "properties": {
                        "username": {"type": "string"},
                        "display_name": {"type": "string"},
                        "roles": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Customer": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "tier": {"type": "string"},
                        "status": {"type": "string", "enum": list(CUSTOMER_STATUSES)},
                        "contacts": {"type": "array", "items": CONTACT},
                        "credit_flag": {"type": "boolean", "description": "A known credit problem"},
                        "balances": {"$ref": "#/components/schemas/Balances"},
                    },
                },
            },
        },
        "paths": {
            **PROCESS_PATHS,
            **CASE_PATHS,
            **LEDGER_PATHS,
            **WEBHOOK_PATHS,
            "/me": {
                "get": {
                    "summary": "The user the token belongs to",
                    "responses": {
                        "200": {
                            "description": "The user",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}},
                        },
                        "401": error_response("Missing or invalid token"),
                    },
                }
            },
            "/customers": {
                "get": {
                    "summary": "Customers by code, searched by code or name, keyset pages",
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                        {"name": "tier", "in": "query", "schema": {"type": "string", "maxLength": 10}},
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(CUSTOMER_STATUSES)},
                        },
                        {"name": "after", "in": "query", "schema": {"type": "string", "maxLength": 40}},
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of customers and the link to the next",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "customers": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Customer"},
                                            },
                                            "next": {"type": ["string", "null"]},
                                        },
                                    }
                                }
                            },
                        },
                        "401": error_response("Missing or invalid token"),
                        "403": error_response("Not allowed"),
                    },
                },
                "post": {
                    "summary": "Create a customer",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["code", "name", "tier"],
                                    "properties": {
                                        "code": {"type": "string", "pattern": CUSTOMER_CODE.pattern},
                                        **CUSTOMER_FIELDS,
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": json_response("Created", CUSTOMER),
                        "400": error_response("Body is not JSON"),
                        "401": error_response("Missing or invalid token"),
                        "403": error_response("Not allowed"),
                        "422": error_response("Invalid data, with JSON Pointers"),
                    },
                },
            },
            "/customers/{code}": {
                "patch": {
                    "summary": "Change a customer's name, tier, contacts, credit flag or status (and why)",
                    "parameters": [
                        {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {**CUSTOMER_FIELDS, "credit_flag": {"type": "boolean"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": json_response("The customer as it is now", CUSTOMER),
                        "400": error_response("Body is not JSON"),
                        "401": error_response("Missing or invalid token"),
                        "403": error_response("Not allowed"),
                        "404": error_response("No such customer"),
                        "422": error_response("Invalid data, with JSON Pointers"),
                    },
                },
                "get": {
                    "summary": "A customer's tier, status and balances per account",
                    "parameters": [
                        {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": json_response("The customer", CUSTOMER),
                        "401": error_response("Missing or invalid token"),
                        "403": error_response("Not allowed"),
                        "404": error_response("No such customer"),
                    },
                },
            },
        },
    }
