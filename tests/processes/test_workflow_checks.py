"""A spec's workflow is checked when saved: every problem points into the spec."""

from __future__ import annotations

import copy

import pytest

from formflow.processes.spec import check_spec

BASE = {
    "formflow": 1,
    "key": "wf_check",
    "category": "other",
    "name": {"zh-CN": "检查", "en": "Check"},
    "form": {"schema": {"type": "object", "properties": {"amount": {"type": "number"}}}},
    "workflow": {
        "start": "draft",
        "states": {
            "draft": {"kind": "form", "actions": {"submit": {"to": "review", "roles": ["staff"]}}},
            "review": {
                "kind": "approval",
                "assignee": {"role": "finance"},
                "approvals": {"required": 1},
                "checklist": [{"id": "evidence", "label": {"zh-CN": "证据", "en": "Evidence"}}],
                "sla": {"due": "PT48H", "on_expire": {"do": "escalate", "role": "manager"}},
                "actions": {
                    "approve": {"to": "done", "roles": ["finance"], "requires": ["checklist"]},
                    "reject": {"to": "done", "roles": ["finance"], "requires": ["comment"]},
                },
            },
            "done": {"kind": "final"},
        },
    },
}


def changed(path: list, value) -> dict:
    spec = copy.deepcopy(BASE)
    target = spec
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return spec


def test_a_sound_workflow_has_no_problems(app_ctx):
    assert check_spec(BASE) == []


W = ["workflow", "states"]


@pytest.mark.parametrize(
    ("path", "value", "pointer", "text"),
    [
        (["workflow", "start"], "drafts", "/workflow/start", "draft"),
        (
            [*W, "draft", "actions", "submit", "to"],
            "reveiw",
            "/workflow/states/draft/actions/submit/to",
            "review",
        ),
        (
            [*W, "draft", "actions", "submit", "roles"],
            ["clerk"],
            "/workflow/states/draft/actions/submit/roles/0",
            "clerk",
        ),
        ([*W, "review", "assignee"], {"role": "boss"}, "/workflow/states/review/assignee/role", "boss"),
        ([*W, "orphan"], {"kind": "final"}, "/workflow/states/orphan", ""),
        ([*W, "loop"], {"kind": "form", "actions": {"again": {"to": "loop"}}}, "/workflow/states/loop", ""),
        (
            [*W, "review", "sla", "on_expire"],
            {"do": "action", "action": "skip"},
            "/workflow/states/review/sla/on_expire/action",
            "skip",
        ),
        (
            [*W, "review", "checklist"],
            [
                {"id": "a", "label": {"zh-CN": "甲", "en": "A"}},
                {"id": "a", "label": {"zh-CN": "乙", "en": "B"}},
            ],
            "/workflow/states/review/checklist/1/id",
            "",
        ),
        (
            [*W, "review", "approvals", "required"],
            {"if": [{">": [{"var": "data.amont"}, 5]}, 2, 1]},
            "/workflow/states/review/approvals/required/if/0/>/0/var",
            "data.amount",
        ),
        (
            [*W, "draft", "actions", "submit", "guard"],
            {"when": {"nope": []}, "message": {"zh-CN": "否", "en": "No"}},
            "/workflow/states/draft/actions/submit/guard/when",
            "nope",
        ),
        ([*W, "done", "actions"], {"reopen": {"to": "draft"}}, "/workflow/states/done/actions", ""),
        ([*W, "review", "sla", "due"], "48 hours", "/workflow/states/review/sla/due", ""),
    ],
)
def test_problems_point_into_the_spec(path, value, pointer, text, app_ctx):
    problems = check_spec(changed(path, value))
    assert pointer in [p["pointer"] for p in problems], problems
    if text:
        assert any(text in p["message"] for p in problems if p["pointer"] == pointer)


def test_a_state_that_cannot_end_is_named(app_ctx):
    spec = changed([*W, "review", "actions"], {"approve": {"to": "review", "roles": ["finance"]}})
    pointers = [p["pointer"] for p in check_spec(spec)]
    assert "/workflow/states/review" in pointers
