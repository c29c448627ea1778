"""The OpenAPI 3.1 document of the API; each later feature adds its paths here."""

from __future__ import annotations

from formflow.customers.services import CODE as CUSTOMER_CODE

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


def _path_key() -> dict:
    return {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}


#: A process spec as the API accepts it; the full rules are in processes/spec.schema.json.
PROCESS_SPEC = {
    "type": "object",
    "description": "A process spec (formflow 1): key, category, name {zh-CN, en}, form {schema, uiSchema}, "
    "and optional description, rules, tables, workflow, tests.",
    "required": ["formflow", "key", "category", "name", "form"],
    "properties": {
        "formflow": {"const": 1},
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,79}$"},
        "category": {"enum": ["deduction", "prepaid", "management_fee", "payment", "offboarding", "other"]},
        "name": {"$ref": "#/components/schemas/Text"},
        "description": {"$ref": "#/components/schemas/Text"},
        "form": {
            "type": "object",
            "required": ["schema"],
            "properties": {"schema": {"type": "object"}, "uiSchema": {"type": "object"}},
        },
        "rules": {"type": "array", "items": {"type": "object"}},
        "tables": {"type": "array", "items": {"type": "object"}},
        "workflow": {"type": "object"},
        "tests": {"type": "array", "items": {"type": "object"}},
    },
}

PROCESS_SCHEMAS = {
    "Text": {
        "type": "object",
        "required": ["zh-CN", "en"],
        "properties": {"zh-CN": {"type": "string"}, "en": {"type": "string"}},
    },
    "ProcessSpec": PROCESS_SPEC,
    "ProcessImported": {
        "type": "object",
        "properties": {
            "key": {"type": "string"},
            "version": {"type": "integer"},
            "status": {"enum": ["draft", "published", "retired"]},
            "created": {"type": "boolean", "description": "a new process or a new version was created"},
            "changed": {"type": "boolean"},
            "changes": {"type": "array", "items": {"type": "string"}},
        },
    },
    "ProcessVersion": {
        "type": "object",
        "properties": {
            "number": {"type": "integer"},
            "status": {"enum": ["draft", "published", "retired"]},
            "sha256": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "published_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
}


def _json(description: str, ref: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


PROCESS_PATHS = {
    "/processes": {
        "get": {
            "summary": "Published processes (for pickers)",
            "responses": {
                "200": {
                    "description": "Each published process with its version",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "processes": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "key": {"type": "string"},
                                                "category": {"type": "string"},
                                                "name": {"$ref": "#/components/schemas/Text"},
                                                "version": {"type": "integer"},
                                            },
                                        },
                                    }
                                },
                            }
                        }
                    },
                },
                "401": _error("Missing or invalid token"),
            },
        },
        "post": {
            "summary": "Import a process spec as a draft",
            "description": "A new key creates the process (version 1); otherwise the latest draft is "
            "replaced, or a new draft follows a published version. Identical specs change nothing.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProcessSpec"}}},
            },
            "responses": {
                "201": _json("A process or version was created", "#/components/schemas/ProcessImported"),
                "200": _json(
                    "A draft was updated, or nothing changed", "#/components/schemas/ProcessImported"
                ),
                "400": _error("Body is not JSON"),
                "401": _error("Missing or invalid token"),
                "403": _error("Not allowed"),
                "409": _error("Changed concurrently; retry"),
                "422": _error("Invalid spec, with JSON Pointers into it; nothing stored"),
            },
        },
    },
    "/processes/{key}": {
        "get": {
            "summary": "A process and its versions",
            "parameters": [_path_key()],
            "responses": {
                "200": {
                    "description": "The process",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "key": {"type": "string"},
                                    "category": {"type": "string"},
                                    "name": {"$ref": "#/components/schemas/Text"},
                                    "published": {"type": ["integer", "null"]},
                                    "versions": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/ProcessVersion"},
                                    },
                                },
                            }
                        }
                    },
                },
                "401": _error("Missing or invalid token"),
                "403": _error("Not allowed"),
                "404": _error("No such process"),
            },
        }
    },
    "/processes/{key}/publish": {
        "post": {
            "summary": "Publish the latest draft (or a given version); the published one is retired",
            "parameters": [_path_key()],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"version": {"type": "integer"}}}
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Published",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "key": {"type": "string"},
                                    "version": {"type": "integer"},
                                    "status": {"const": "published"},
                                },
                            }
                        }
                    },
                },
                "401": _error("Missing or invalid token"),
                "403": _error("Not allowed"),
                "404": _error("No such process or version"),
                "409": _error("Nothing to publish, or already published"),
                "422": _error("The spec fails its checks or tests"),
            },
        }
    },
}


#: Cases. Error pointers point into the request body: /process, /customer, /data/…, /submit.
CASE_SCHEMAS = {
    "CaseCreate": {
        "type": "object",
        "required": ["process", "customer"],
        "properties": {
            "process": {
                "type": "string",
                "description": "process key; the case runs on its published version",
            },
            "customer": {"type": "string", "description": "customer code"},
            "data": {
                "type": "object",
                "description": "the form's data, checked against the version's JSON Schema",
            },
            "submit": {
                "type": "boolean",
                "default": False,
                "description": "true: submit at once (the data must be complete); false: a draft, "
                "where required fields may be missing but every value given must be valid",
            },
        },
    },
    "CaseCreated": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "state": {"type": "string"},
            "version": {"type": "integer", "description": "the process version the case runs on"},
        },
    },
    "Attachment": {
        "type": "object",
        "properties": {
            "token": {"type": "string", "description": "the value of the file field in the data"},
            "field": {"type": "string", "description": "JSON Pointer of the field it was uploaded to"},
            "filename": {"type": "string"},
            "content_type": {"type": "string"},
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
        },
    },
    "ExplainNode": {
        "type": "object",
        "properties": {
            "operator": {
                "type": ["string", "null"],
                "description": "the JSONLogic operator (null: a literal)",
            },
            "text": {"type": "string", "description": "the step in words: data.amount (3000) > 2000 → true"},
            "result": {"description": "the step's result"},
            "error": {"type": "string"},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/ExplainNode"}},
        },
    },
    "Explanation": {
        "type": "object",
        "properties": {
            "result": {"description": "the rule's result (null when it failed)"},
            "reads": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string", "description": "a context path: data.amount"},
                        "lookup": {
                            "type": "array",
                            "items": {},
                            "description": "[table, key, column] of a parameter-table lookup",
                        },
                        "value": {},
                    },
                },
            },
            "tree": {"oneOf": [{"$ref": "#/components/schemas/ExplainNode"}, {"type": "null"}]},
            "error": {"type": "string", "description": "why the rule could not be evaluated"},
        },
    },
    "CaseExplanation": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "state": {"type": "string"},
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "kind": {"enum": ["compute", "visible", "enable", "required", "validate"]},
                        "pointer": {"type": "string"},
                        "result": {},
                        "explain": {"$ref": "#/components/schemas/Explanation"},
                    },
                },
            },
            "approvals_required": {
                "oneOf": [{"$ref": "#/components/schemas/Explanation"}, {"type": "null"}],
                "description": "the current step's approvals required (null outside an approval step)",
            },
            "guards": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "action": {"type": "string"},
                        "explain": {"$ref": "#/components/schemas/Explanation"},
                    },
                },
            },
            "checklist": {
                "type": "array",
                "description": "the current step's checklist items whose required is a rule",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "explain": {"$ref": "#/components/schemas/Explanation"},
                    },
                },
            },
        },
    },
    "Case": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "process": {"type": "string"},
            "version": {"type": "integer"},
            "customer": {"type": "string"},
            "state": {
                "type": "string",
                "description": "the workflow state (without a workflow: draft or submitted)",
            },
            "data": {"type": "object"},
            "attachments": {"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}},
            "created_at": {"type": "string", "format": "date-time"},
            "created_by": {"type": ["string", "null"]},
            "updated_at": {"type": "string", "format": "date-time"},
            "submitted_at": {"type": ["string", "null"], "format": "date-time"},
            "submitted_by": {"type": ["string", "null"]},
            "lock_version": {
                "type": "integer",
                "description": "send it back with an action: a change since then is a 409",
            },
            "state_title": {"type": "string"},
            "state_round": {"type": "integer", "description": "how many times the case entered its state"},
            "state_entered_at": {"type": ["string", "null"], "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "due_at": {"type": ["string", "null"], "format": "date-time"},
            "overdue": {"type": "boolean"},
            "assigned_to": {"type": ["string", "null"], "description": "a manager's reassignment"},
            "waiting_for": {
                "type": "object",
                "properties": {
                    "users": {"type": "array", "items": {"type": "string"}},
                    "roles": {"type": "array", "items": {"type": "string"}},
                    "why": {
                        "enum": [
                            "reassigned",
                            "field",
                            "initiator",
                            "assignee",
                            "actions",
                            "timer",
                            "unasked",
                            None,
                        ]
                    },
                },
            },
            "approvals": {"oneOf": [{"$ref": "#/components/schemas/Approvals"}, {"type": "null"}]},
            "actions": {
                "type": "array",
                "description": "the actions open to the caller now",
                "items": {"$ref": "#/components/schemas/ActionOption"},
            },
            "checklist": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "label": {"type": "string"},
                        "required": {"type": "boolean"},
                        "done": {"type": "boolean"},
                    },
                },
            },
            "computed": {"type": "object", "description": "computed values by JSON Pointer"},
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "rule": {"type": "string"},
                        "kind": {"enum": ["compute", "validate"]},
                        "pointer": {"type": "string"},
                        "ok": {"type": "boolean"},
                        "message": {"type": "string"},
                    },
                },
            },
            "history": {"type": "array", "items": {"$ref": "#/components/schemas/HistoryEntry"}},
        },
    },
    "Approvals": {
        "type": "object",
        "properties": {
            "required": {"type": "integer"},
            "remaining": {"type": "integer"},
            "distinct": {"type": "boolean"},
            "roles": {"type": "array", "items": {"type": "string"}, "description": "who may approve"},
            "given": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "user": {"type": ["string", "null"]},
                        "at": {"type": "string", "format": "date-time"},
                        "comment": {"type": "string"},
                    },
                },
            },
        },
    },
    "ActionOption": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "to": {"type": "string"},
            "requires_comment": {"type": "boolean"},
            "is_approval": {"type": "boolean"},
            "needs_input": {"type": "boolean", "description": "a comment, checklist or guard is involved"},
            "blocked": {"type": ["string", "null"], "description": "why the caller cannot take it now"},
        },
    },
    "HistoryEntry": {
        "type": "object",
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "kind": {
                "type": "string",
                "description": "transition, approval, rejection, checklist, effect, timer, …",
            },
            "action": {"type": "string", "description": "the audit action, e.g. case.transition"},
            "actor": {"type": ["string", "null"]},
            "summary": {"type": "string"},
            "comment": {"type": "string"},
            "data": {"type": "object"},
        },
    },
    "CaseAction": {
        "type": "object",
        "properties": {
            "comment": {"type": "string"},
            "data": {
                "type": "object",
                "description": (
                    "values merged into the case's data: only at a form step, only by who may edit "
                    "there, only the fields the step lets change; checked like a save and audited"
                ),
            },
            "lock_version": {
                "type": "integer",
                "description": (
                    "the case's lock_version as last read: if the case changed since, 409. Without it "
                    "the action applies to the case as it is now (data sent is merged into the "
                    "current data: a field someone else changed meanwhile is overwritten)"
                ),
            },
        },
    },
    "AttachmentCreated": {
        "type": "object",
        "properties": {
            "token": {"type": "string", "description": "the value for a file field of a case"},
            "filename": {"type": "string"},
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
            "content_type": {"type": "string"},
        },
    },
    "CaseActionDone": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "state": {"type": "string"},
            "transitioned": {
                "type": "boolean",
                "description": "false: an approval was recorded and more are needed",
            },
            "approvals": {"oneOf": [{"$ref": "#/components/schemas/Approvals"}, {"type": "null"}]},
            "lock_version": {"type": "integer"},
        },
    },
}

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
                "401": _error("Missing or invalid token"),
                "403": _error("Not allowed to upload (only those who may start or edit cases)"),
                "413": _error("Larger than the largest request"),
                "422": _error(
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
                "400": _error("Body is not JSON"),
                "401": _error("Missing or invalid token"),
                "403": _error("Not allowed"),
                "422": _error(
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
                "401": _error("Missing or invalid token"),
                "403": _error("Not allowed"),
                "404": _error("No such case"),
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
                "401": _error("Missing or invalid token"),
                "403": _error("Not allowed"),
                "404": _error("No such case"),
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
                "400": _error("Body is not JSON"),
                "401": _error("Missing or invalid token"),
                "403": _error("The caller may not take this action (roles, assignee, not the initiator)"),
                "404": _error("No such case"),
                "409": _error("The case changed since lock_version, or another action won the race"),
                "422": _error(
                    "Not possible at this state, guard not met (its message), comment required (/comment), "
                    "checklist incomplete (/checklist), already approved by you, or an effect failed"
                ),
            },
        }
    },
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
            **PROCESS_PATHS,
            **CASE_PATHS,
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
                                        "code": {"type": "string", "pattern": CUSTOMER_CODE.pattern},
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
