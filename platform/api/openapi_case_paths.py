"""The OpenAPI paths of cases and attachments: upload, start, read, explain and act on a case."""

from __future__ import annotations

from formflow.api.openapi_responses import error_response

CASE_PATHS = {
    "/attachments": {
        "post": {
            "summary": "Upload a file; its token is the value of a case's file field",
            "description": (
                "Until a case refers to it, only its uploader sees it and only the uploader's cases may "
                "take it. With `process` and `field` the field's size and type limits apply at once; "
                "they always apply when the token is put into a field."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "process": {"type": "string", "description": "a process key"},
                                "field": {"type": "string", "description": "a file field's JSON Pointer"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "Stored",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/AttachmentCreated"}}
                    },
                },
                "401": error_response("Missing or invalid token"),
                "403": error_response("Not allowed to upload (only those who may start or edit cases)"),
                "413": error_response("Larger than the largest request"),
                "422": error_response(
                    "No file (/file), too large, of a type the field refuses (judged by the content, "
                    "not the Content-Type sent) or beyond the uploader's quota (/file), or an "
                    "unknown process (/process) or field (/field)"
                ),
            },
        }
    },
    "/cases": {
        "post": {
            "summary": "Start a case for a customer on a process's published version",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseCreate"}}},
            },
            "responses": {
                "201": {
                    "description": "Created",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseCreated"}}},
                },
                "400": error_response("Body is not JSON"),
                "401": error_response("Missing or invalid token"),
                "403": error_response("Not allowed"),
                "422": error_response(
                    "Unknown process (/process) or customer (/customer), or invalid data with pointers "
                    "into the body (/data/amount); nothing stored"
                ),
            },
        }
    },
    "/cases/{case_id}": {
        "get": {
            "summary": "A case: its process version, customer, state, data and attachments",
            "parameters": [
                {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {
                    "description": "The case",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Case"}}},
                },
                "401": error_response("Missing or invalid token"),
                "403": error_response("Not allowed"),
                "404": error_response("No such case"),
            },
        }
    },
    "/cases/{case_id}/explain": {
        "get": {
            "summary": "Why: each rule result and each rule-decided number of a case, with its evaluation",
            "description": (
                "Who may read the case may read this. Each explanation gives the result, the values the "
                "rule read (data paths and lookup(table, key, column)) and a tree of the steps, each "
                "with a sentence in the caller's language."
            ),
            "parameters": [
                {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {
                    "description": "The explanations",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CaseExplanation"}}
                    },
                },
                "401": error_response("Missing or invalid token"),
                "403": error_response("Not allowed"),
                "404": error_response("No such case"),
            },
        }
    },
    "/cases/{case_id}/actions/{action}": {
        "post": {
            "summary": "Take a workflow action (the same rules as the case page)",
            "parameters": [
                {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                {"name": "action", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseAction"}}},
            },
            "responses": {
                "200": {
                    "description": "Done: the case's state now",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CaseActionDone"}}
                    },
                },
                "400": error_response("Body is not JSON"),
                "401": error_response("Missing or invalid token"),
                "403": error_response(
                    "The caller may not take this action (roles, assignee, not the initiator)"
                ),
                "404": error_response("No such case"),
                "409": error_response("The case changed since lock_version, or another action won the race"),
                "422": error_response(
                    "Not possible at this state, guard not met (its message), comment required (/comment), "
                    "checklist incomplete (/checklist), already approved by you, or an effect failed"
                ),
            },
        }
    },
}
