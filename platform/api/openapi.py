"""The OpenAPI 3.1 document of the API; each later feature adds its paths here."""

from __future__ import annotations

ERRORS = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "message"],
                "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}},
            },
        }
    },
}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
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
                        "status": {"type": "string"},
                        "balances": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
            },
        },
        "paths": {
            "/me": {
                "get": {
                    "summary": "The user the token belongs to",
                    "responses": {
                        "200": {
                            "description": "The user",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Me"}}},
                        },
                        "401": _error("Missing or invalid token"),
                    },
                }
            },
            "/customers": {
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
                                        "code": {"type": "string", "maxLength": 40},
                                        "name": {"type": "string", "maxLength": 200},
                                        "tier": {"type": "string", "maxLength": 10},
                                        "status": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Created",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Customer"}}
                            },
                        },
                        "400": _error("Body is not JSON"),
                        "401": _error("Missing or invalid token"),
                        "403": _error("Not allowed"),
                        "422": _error("Invalid data, with JSON Pointers"),
                    },
                }
            },
            "/customers/{code}": {
                "get": {
                    "summary": "A customer's tier, status and balances per account",
                    "parameters": [
                        {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "The customer",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Customer"}}
                            },
                        },
                        "401": _error("Missing or invalid token"),
                        "403": _error("Not allowed"),
                        "404": _error("No such customer"),
                    },
                }
            },
        },
    }
