"""The API's workflow side: GET a case with its step, approvals, the caller's actions and
history; POST an action with the same rules as the case page (403, 409, 422 as JSON)."""

from __future__ import annotations

import copy

import pytest
from workflows.inbox_support import SPEC, install, new_case, user

from formflow.auth import services as auth
from formflow.cases.models import Case
from formflow.extensions import db


@pytest.fixture
def world(app):
    with app.app_context():
        guarded = copy.deepcopy(SPEC)
        guarded["key"] = "wf_inbox_guarded"
        guarded["workflow"]["states"]["review"]["actions"]["approve"]["guard"] = {
            "when": {"<=": [{"var": "data.amount"}, 500]},
            "message": {"zh-CN": "金额超过500，不能直接批准", "en": "Above 500: cannot be approved here"},
        }
        ids = install(SPEC, guarded)
        tokens = {
            name: auth.create_token(user(name), "test")[0] for name in ("fin1", "fin2", "staff2", "aud1")
        }
        db.session.commit()
    return {"ids": ids, "tokens": tokens}


@pytest.fixture
def api(app, world):
    client = app.test_client()
    client.set_cookie("lang", "en")

    def call(method: str, url: str, name: str, body=None, **kwargs):
        headers = {"Authorization": f"Bearer {world['tokens'][name]}"}
        if method == "GET":
            return client.get(url, headers=headers)
        return client.post(url, json=body, headers=headers, **kwargs)

    return call


def case_id(app, amount="100", **kwargs) -> int:
    with app.app_context():
        return new_case(amount, **kwargs).id


def state_of(app, number: int) -> str:
    with app.app_context():
        return db.session.get(Case, number).state


def test_get_a_case_shows_its_step_approvals_actions_and_history(app, api):
    number = case_id(app, "2000")
    body = api("GET", f"/api/v1/cases/{number}", "fin1").json
    assert body["state"] == "review" and body["state_title"] == "Review" and body["state_round"] >= 1
    assert body["waiting_for"] == {"users": [], "roles": ["finance"], "why": "assignee"}
    assert body["approvals"] | {"given": []} == {
        "required": 2,
        "remaining": 2,
        "distinct": True,
        "roles": ["finance"],
        "given": [],
    }
    assert [a["name"] for a in body["actions"]] == ["approve", "reject", "return"]
    reject = body["actions"][1]
    assert reject["requires_comment"] is True and reject["to"] == "rejected" and reject["blocked"] is None
    assert str(body["computed"]["/fee"]) == "120.00"
    assert {
        "rule": "amount-below-cap",
        "kind": "validate",
        "pointer": "/amount",
        "ok": True,
        "message": "",
    } in body["rules"]
    kinds = [entry["kind"] for entry in body["history"]]
    assert kinds[0] == "created" and "transition" in kinds and "submitted" in kinds
    assert all(entry["at"].endswith("Z") for entry in body["history"])
    assert isinstance(body["lock_version"], int)


def test_the_actions_are_the_callers(app, api):
    number = case_id(app)
    assert api("GET", f"/api/v1/cases/{number}", "staff2").status_code == 403  # not theirs to read
    assert api("GET", f"/api/v1/cases/{number}", "aud1").json["actions"] == []


def test_post_an_action(app, api):
    number = case_id(app)
    lock = api("GET", f"/api/v1/cases/{number}", "fin1").json["lock_version"]
    response = api(
        "POST", f"/api/v1/cases/{number}/actions/approve", "fin1", {"comment": "好", "lock_version": lock}
    )
    assert response.status_code == 200, response.json
    assert response.json["state"] == "approved" and response.json["transitioned"] is True
    assert state_of(app, number) == "approved"
    body = api("GET", f"/api/v1/cases/{number}", "fin1").json
    assert body["closed_at"] is not None and body["actions"] == []
    assert any(
        e["kind"] == "approval" and e["comment"] == "好" and e["actor"] == "fin1" for e in body["history"]
    )


def test_one_of_two_approvals_is_recorded_without_moving_on(app, api):
    number = case_id(app, "2000")
    first = api("POST", f"/api/v1/cases/{number}/actions/approve", "fin1", {})
    assert first.status_code == 200
    assert first.json["transitioned"] is False and first.json["state"] == "review"
    assert first.json["approvals"]["remaining"] == 1 and first.json["approvals"]["given"][0]["user"] == "fin1"
    again = api("POST", f"/api/v1/cases/{number}/actions/approve", "fin1", {})
    assert again.status_code == 422 and again.json["errors"][0]["message"] == "Already approved by you."
    second = api("POST", f"/api/v1/cases/{number}/actions/approve", "fin2", {})
    assert second.status_code == 200 and second.json["state"] == "approved"


@pytest.mark.parametrize(
    "who, action, body, status, pointer, message",
    [
        ("staff2", "approve", {}, 403, "", "You do not have permission to do this."),
        ("aud1", "reject", {"comment": "no"}, 403, "", "You do not have permission to do this."),
        ("fin1", "reject", {"comment": "  "}, 422, "/comment", "A comment is required for this action."),
        ("fin1", "no-such", {}, 422, "/action", "is not possible while the case is at"),
        ("fin1", "approve", {"lock_version": 999}, 409, "", "changed by someone else"),
        ("fin1", "approve", {"lock_version": "1"}, 422, "/lock_version", "whole number"),
        ("fin1", "approve", {"data": [1]}, 422, "/data", "JSON object"),
        ("fin1", "approve", {"comment": 5}, 422, "/comment", "Must be a string."),
        ("fin1", "approve", [], 422, "", "JSON object"),
    ],
)
def test_a_refused_action_is_a_json_error_and_changes_nothing(
    app, api, who, action, body, status, pointer, message
):
    number = case_id(app)
    response = api("POST", f"/api/v1/cases/{number}/actions/{action}", who, body)
    assert response.status_code == status, response.json
    [error] = response.json["errors"]
    assert error["pointer"] == pointer and message in error["message"]
    assert state_of(app, number) == "review"


def test_a_guard_that_is_not_met_gives_its_message(app, api):
    number = case_id(app, "800", key="wf_inbox_guarded")
    response = api("POST", f"/api/v1/cases/{number}/actions/approve", "fin1", {})
    assert response.status_code == 422
    assert response.json["errors"][0]["message"] == "Above 500: cannot be approved here"
    assert state_of(app, number) == "review"


def test_the_action_endpoint_needs_a_token_json_and_an_existing_case(app, api):
    number = case_id(app)
    client = app.test_client()
    assert client.post(f"/api/v1/cases/{number}/actions/approve", json={}).status_code == 401
    not_json = api("POST", f"/api/v1/cases/{number}/actions/approve", "fin1", None, data="x")
    assert not_json.status_code == 400
    assert api("POST", "/api/v1/cases/999999/actions/approve", "fin1", {}).status_code == 404


def test_openapi_describes_the_action_and_the_case_workflow(app):
    document = app.test_client().get("/api/v1/openapi.json").json
    post = document["paths"]["/cases/{case_id}/actions/{action}"]["post"]
    assert set(post["responses"]) >= {"200", "403", "409", "422"}
    case = document["components"]["schemas"]["Case"]["properties"]
    assert {"approvals", "actions", "history", "lock_version", "waiting_for"} <= set(case)
