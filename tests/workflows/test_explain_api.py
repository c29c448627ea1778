"""GET /api/v1/cases/{id}/explain: each rule result and each rule-decided number of a case
with its evaluation; the case's own read permission."""

from __future__ import annotations

import pytest
from workflows.explain_support import KEY, explain_spec
from workflows.inbox_support import SPEC, install, new_case, user

from formflow.auth import services as auth
from formflow.extensions import db


@pytest.fixture
def world(app):
    with app.app_context():
        ids = install(SPEC, explain_spec())
        tokens = {name: auth.create_token(user(name), "test")[0] for name in ("fin1", "staff2", "aud1")}
        db.session.commit()
    return {"ids": ids, "tokens": tokens}


@pytest.fixture
def api(app, world):
    client = app.test_client()
    client.set_cookie("lang", "en")

    def call(url: str, name: str):
        return client.get(url, headers={"Authorization": f"Bearer {world['tokens'][name]}"})

    return call


def case_id(app, amount: str) -> int:
    with app.app_context():
        return new_case(amount, key=KEY, reviewer="fin1").id


def test_above_the_tier_threshold_two_approvals_and_why(app, api):
    number = case_id(app, "3000")
    response = api(f"/api/v1/cases/{number}/explain", "fin1")
    assert response.status_code == 200
    body = response.json
    assert body["id"] == number and body["state"] == "review"
    approvals = body["approvals_required"]
    assert approvals["result"] == 2
    assert {"path": "data.amount", "value": 3000} in approvals["reads"]
    assert {"lookup": ["limits", "B", "dual_approval_above"], "value": 2000} in approvals["reads"]
    assert approvals["tree"]["operator"] == "if"
    (condition,) = approvals["tree"]["children"]
    assert condition["text"] == "data.amount (3000) > lookup(limits, B, dual_approval_above) (2000) → true"
    assert "$tables" not in response.get_data(as_text=True)
    # the same number the case itself shows
    assert api(f"/api/v1/cases/{number}", "fin1").json["approvals"]["required"] == 2


def test_every_rule_result_is_explained(app, api):
    number = case_id(app, "3000")
    body = api(f"/api/v1/cases/{number}/explain", "fin1").json
    rules = {(entry["id"], entry["kind"]): entry for entry in body["rules"]}
    assert set(rules) == {
        ("fee", "compute"),
        ("amount-below-cap", "validate"),
        ("reviewer-above", "required"),
    }
    required = rules[("reviewer-above", "required")]
    assert required["pointer"] == "/reviewer" and required["result"] is True
    assert required["explain"]["result"] is True
    assert {"lookup": ["limits", "B", "dual_approval_above"], "value": 2000} in required["explain"]["reads"]
    fee = rules[("fee", "compute")]
    assert fee["explain"]["tree"]["operator"] == "*"
    assert fee["explain"]["reads"] == [{"path": "data.amount", "value": 3000}]
    assert body["checklist"] == [
        {"id": "evidence", "explain": body["checklist"][0]["explain"]},
    ]
    assert body["checklist"][0]["explain"]["result"] is True
    (guard,) = body["guards"]
    assert guard["action"] == "reject" and guard["explain"]["result"] is True


def test_below_the_threshold_one_approval(app, api):
    number = case_id(app, "1500")
    approvals = api(f"/api/v1/cases/{number}/explain", "fin1").json["approvals_required"]
    assert approvals["result"] == 1
    assert approvals["tree"]["text"] == "no condition is met → 1"


def test_who_cannot_read_the_case_cannot_read_why(app, api):
    number = case_id(app, "3000")
    assert api(f"/api/v1/cases/{number}", "staff2").status_code == 403
    assert api(f"/api/v1/cases/{number}/explain", "staff2").status_code == 403
    assert api("/api/v1/cases/999999/explain", "fin1").status_code == 404
    assert api(f"/api/v1/cases/{number}/explain", "aud1").status_code == 200  # auditors read every case


def test_chinese_words_by_default(app, world):
    number = case_id(app, "3000")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world['tokens']['fin1']}"}
    body = client.get(f"/api/v1/cases/{number}/explain", headers=headers).json
    (condition,) = body["approvals_required"]["tree"]["children"]
    assert condition["text"].endswith("→ 是")
    assert body["approvals_required"]["tree"]["text"].startswith("满足第 1 个条件")
