"""The inbox process with a parameter table: review needs two approvals above the customer
tier's dual-approval threshold (W200 is tier B: 2000), a required-if, a guard and a
checklist item required by a rule."""

from __future__ import annotations

import copy

from workflows.inbox_support import SPEC

KEY = "wf_explain"
THRESHOLD = {"lookup": ["limits", {"var": "customer.tier"}, "dual_approval_above"]}


def explain_spec() -> dict:
    spec = copy.deepcopy(SPEC)
    spec["key"] = KEY
    spec["tables"] = [
        {
            "key": "limits",
            "keyColumn": "tier",
            "columns": ["tier", "dual_approval_above"],
            "rows": [["A", 20000], ["B", 2000], ["C", 500]],
        }
    ]
    spec["rules"].append(
        {
            "id": "reviewer-above",
            "kind": "required",
            "field": "/reviewer",
            "when": {">": [{"var": "data.amount"}, THRESHOLD]},
        }
    )
    review = spec["workflow"]["states"]["review"]
    review["approvals"]["required"] = {"if": [{">": [{"var": "data.amount"}, THRESHOLD]}, 2, 1]}
    review["checklist"] = [
        {
            "id": "evidence",
            "label": {"zh-CN": "核对凭证", "en": "Check the evidence"},
            "required": {">": [{"var": "data.amount"}, 1000]},
        }
    ]
    review["actions"]["reject"]["guard"] = {
        "when": {"<": [{"var": "data.amount"}, 100000]},
        "message": {"zh-CN": "金额过大", "en": "Too large"},
    }
    return spec
