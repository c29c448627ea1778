"""Changing a workflow step without JSON, as the admin does it: the editor's form posted back as
the page shows it (nothing lost), then one thing changed at a time — approvals, SLA, actions with
guards, effects from their config schemas — and steps removed (or refused, naming what leads
there). Bad input is refused at its input; nothing is saved."""

from __future__ import annotations

import html
import re

import pytest
from page_forms import changed, form_pairs
from werkzeug.datastructures import MultiDict

from formflow.processes import services

EDIT = "/admin/processes/deduction/steps/{}/edit"


@pytest.fixture
def published(publish_config):
    publish_config("deduction")


def _state(app, name: str) -> dict:
    with app.app_context():
        return services.latest_version("deduction").spec["workflow"]["states"].get(name)


def _post(admin, state: str, status: int = 302, **values):
    url = EDIT.format(state)
    pairs = changed(form_pairs(admin.get(url).get_data(as_text=True), url), **values)
    answer = admin.post(url, data=MultiDict(pairs))
    assert answer.status_code == status, answer.get_data(as_text=True)[:3000]
    return answer


def _error_at(body: str, name: str) -> str:
    found = re.search(rf'<small id="{re.escape(name)}-error" class="field-error">(.*?)</small>', body, re.S)
    assert found, body[:5000]
    assert f'aria-describedby="{name}-error"' in body
    return html.unescape(found.group(1))


@pytest.mark.parametrize("state", ["draft", "review", "executed", "dispute_review", "reversed"])
def test_the_step_posted_back_as_shown_is_the_step_as_it_was(app, login_as, published, state):
    before = _state(app, state)
    admin = login_as("admin")
    _post(admin, state, command="save")
    assert _state(app, state) == before


def test_the_page_reads_the_tier_threshold_approvals_as_simple_inputs(app, login_as, published):
    admin = login_as("admin")
    page = admin.get(EDIT.format("review")).get_data(as_text=True)
    assert '<option value="threshold" selected>' in page
    assert '<option value="amount" selected>' in page
    assert 'value="deduction_limits"' in page and 'value="dual_approval_above"' in page
    assert re.search(r'name="approvals_more" value="2"', page) and re.search(
        r'name="approvals_number" value="1"', page
    )
    assert "<svg" in page  # the diagram


def test_approvals_sla_and_an_action_with_a_guard_are_changed(app, login_as, published):
    admin = login_as("admin")
    _post(
        admin,
        "review",
        approvals_more="3",
        sla_due="P2D",
        sla_remind="PT8H, P1D",
        **{
            "actions-0-guard": '{">": [{"var": "data.amount"}, 0]}',
            "actions-0-guard_zh": "金额必须大于零",
            "actions-0-guard_en": "The amount must be above zero",
            "actions-0-comment": "1",
        },
        command="save",
    )
    review = _state(app, "review")
    assert review["approvals"]["required"]["if"][1] == 3 and review["approvals"]["distinct"] is True
    assert review["sla"] == {
        "due": "P2D",
        "remind_before": ["PT8H", "P1D"],
        "on_expire": {"do": "escalate", "role": "manager"},
    }
    assert review["actions"]["approve"]["guard"] == {
        "when": {">": [{"var": "data.amount"}, 0]},
        "message": {"zh-CN": "金额必须大于零", "en": "The amount must be above zero"},
    }
    assert review["actions"]["approve"]["requires"] == ["comment"]


def test_an_action_added_and_one_removed_before_saving(app, login_as, published):
    admin = login_as("admin")
    url = EDIT.format("executed")
    pairs = changed(form_pairs(admin.get(url).get_data(as_text=True), url), command="add_action")
    page = admin.post(url, data=MultiDict(pairs)).get_data(as_text=True)
    assert 'name="actions-2-name" value=""' in page  # a new row, nothing saved yet
    with app.app_context():
        assert services.latest_version("deduction").number == 1
    pairs = changed(
        form_pairs(page, url),
        **{"actions-2-name": "escalate", "actions-2-title_zh": "升级", "actions-2-title_en": "Escalate"},
        **{"actions-2-to": "dispute_review"},
        **{"actions-2-roles": ["manager"]},
        command="save",
    )
    assert admin.post(url, data=MultiDict(pairs)).status_code == 302
    assert _state(app, "executed")["actions"]["escalate"] == {
        "to": "dispute_review",
        "roles": ["manager"],
        "title": {"zh-CN": "升级", "en": "Escalate"},
    }
    page = admin.get(url).get_data(as_text=True)
    index = re.findall(r'name="actions-(\d+)-name" value="escalate"', page)[0]
    pairs = changed(form_pairs(page, url), command=f"remove_action:{index}")
    page = admin.post(url, data=MultiDict(pairs)).get_data(as_text=True)
    pairs = changed(form_pairs(page, url), command="save")
    assert admin.post(url, data=MultiDict(pairs)).status_code == 302
    assert "escalate" not in _state(app, "executed")["actions"]


def test_effects_are_edited_through_forms_from_their_config_schemas(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    url = EDIT.format("executed")
    page = admin.get(url).get_data(as_text=True)
    assert "Post money to the customer&#39;s ledger" in page or "Post money to the customer's ledger" in page
    assert '<option value="deduction" selected>Deduction</option>' in page
    _post(
        admin,
        "executed",
        **{"effects-0-memo": "合同扣款", "effects-1-template": "deduction_notice"},
        command="save",
    )
    effects = _state(app, "executed")["on_enter"]
    assert effects[0] == {
        "effect": "ledger.post", "kind": "deduction", "amount": {"var": "data.amount"},
        "account": "prepaid", "short": "receivable", "memo": "合同扣款",
    }  # fmt: skip
    pairs = changed(form_pairs(page, url), new_effect="webhook", command="add_effect")
    page = admin.post(url, data=MultiDict(pairs)).get_data(as_text=True)
    assert 'name="effects-3-url"' in page
    pairs = changed(
        form_pairs(page, url), **{"effects-3-url": "not a url", "effects-3-event": "x"}, command="save"
    )
    refused = admin.post(url, data=MultiDict(pairs))
    assert refused.status_code == 422
    assert _error_at(refused.get_data(as_text=True), "effects-3-url")
    assert len(_state(app, "executed")["on_enter"]) == 3


@pytest.mark.parametrize(
    ("state", "values", "name", "words"),
    [
        ("review", {"title_zh": ""}, "title_zh", "Chinese title"),
        ("review", {"title_en": ""}, "title_en", "English"),
        ("review", {"actions-0-title_en": ""}, "actions-0-title_en", "both languages"),
        ("review", {"sla_due": "two days"}, "sla_due", "P3D"),
        ("review", {"sla_remind": "soon"}, "sla_remind", "PT8H"),
        ("review", {"approvals": "logic", "approvals_logic": "{not json"}, "approvals_logic", "JSON"),
        ("review", {"approvals_more": "0"}, "approvals_more", "1 or more"),
        ("review", {"actions-0-to": ""}, "actions-0-to", "Choose the step"),
        ("review", {"actions-1-name": "approve"}, "actions-1-name", "Another action"),
        ("review", {"actions-0-guard": '{"==": [1, 1]}'}, "actions-0-guard_zh", "refused"),
        ("executed", {"sla_expire_action": "gone"}, "sla_expire_action", "Choose an action"),
        ("review", {"actions-1-checklist": "1"}, "actions-1-name", "checklist"),
        ("review", {"assignee": "field", "assignee_field": "reviewer"}, "assignee_field", "/field"),
    ],
)
def test_bad_input_is_refused_at_its_input(app, login_as, published, state, values, name, words):
    admin = login_as("admin")
    admin.get("/lang/en")
    answer = _post(admin, state, status=422, **values, command="save")
    assert words in _error_at(answer.get_data(as_text=True), name)
    with app.app_context():
        assert services.latest_version("deduction").number == 1


def test_a_step_an_action_leads_to_is_not_removed_and_the_message_names_it(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    url = "/admin/processes/deduction/steps/rejected/remove"
    refused = admin.post_form(url, {"base": _base(admin)}, token_page=EDIT.format("rejected"))
    assert refused.status_code == 422
    message = _error_at(refused.get_data(as_text=True), "remove")
    assert "Review → Reject" in message
    first = admin.post_form(
        "/admin/processes/deduction/steps/draft/remove",
        {"base": _base(admin)},
        token_page=EDIT.format("draft"),
    )
    assert first.status_code == 422 and "cannot be removed" in html.unescape(first.get_data(as_text=True))
    with app.app_context():
        assert services.latest_version("deduction").number == 1


def test_a_step_is_removed_with_the_actions_that_led_to_it_leading_elsewhere(app, login_as, published):
    admin = login_as("admin")
    answer = admin.post_form(
        "/admin/processes/deduction/steps/rejected/remove",
        {"base": _base(admin), "instead": "closed"},
        token_page=EDIT.format("rejected"),
    )
    assert answer.status_code == 302
    assert _state(app, "rejected") is None
    assert _state(app, "review")["actions"]["reject"]["to"] == "closed"


def test_the_diagram_shows_the_step_as_edited_before_saving(app, login_as, published):
    admin = login_as("admin")
    answer = _post(admin, "executed", status=200, **{"actions-0-to": "closed"}, command="diagram")
    page = answer.get_data(as_text=True)
    assert "<svg" in page
    with app.app_context():
        assert services.latest_version("deduction").number == 1


def _base(admin) -> str:
    page = admin.get(EDIT.format("review")).get_data(as_text=True)
    return re.search(r'name="base"[^>]*value="([^"]*)"', page).group(1)
