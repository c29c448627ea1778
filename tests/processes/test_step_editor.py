"""Inserting a workflow step without JSON: the arrow re-routed through the new step, its SLA
taking its action on expiry; bad input refused at its field, nothing saved."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from formflow.processes import services

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
URL = "/admin/processes/offboarding/steps/new"
GOOD = {
    "after": "preliminary_notice:start_rectification",
    "name": "cooling_off",
    "title_zh": "冷静期",
    "title_en": "Cooling-off period",
    "role": "risk",
    "action_zh": "结束冷静期",
    "action_en": "End the cooling-off",
    "due": "P2D",
}


@pytest.fixture
def published(publish_config):
    publish_config("offboarding")


def _base(page: str) -> str:
    return re.search(r'name="base"[^>]*value="([^"]*)"', page).group(1)


def test_the_step_goes_between_the_two_states(app, login_as, published):
    admin = login_as("admin")
    page = admin.get(URL).get_data(as_text=True)
    assert 'value="preliminary_notice:start_rectification"' in page
    assert 'data-testid="workflow-diagram"' in page
    saved = admin.post_form(URL, {**GOOD, "base": _base(page)})
    assert saved.status_code == 302
    with app.app_context():
        states = services.version("offboarding", 2).spec["workflow"]["states"]
    assert states["preliminary_notice"]["actions"]["start_rectification"]["to"] == "cooling_off"
    assert states["cooling_off"] == {
        "kind": "automatic",
        "title": {"zh-CN": "冷静期", "en": "Cooling-off period"},
        "assignee": {"role": "risk"},
        "actions": {
            "continue": {
                "to": "rectification",
                "roles": ["risk"],
                "title": {"zh-CN": "结束冷静期", "en": "End the cooling-off"},
            }
        },
        "sla": {"due": "P2D", "on_expire": {"do": "action", "action": "continue"}},
    }


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "evaluation"}, "name", "Another step already has this name."),
        ({"name": "Bad Name"}, "name", "lowercase letter"),
        ({"name": ""}, "name", "lowercase letter"),
        ({"after": "nowhere:x"}, "after", "Choose the arrow the step goes on."),
        ({"title_zh": ""}, "title_zh", "Give the step a Chinese title."),
        ({"role": "king"}, "role", "Choose who acts on the step."),
        ({"due": "three days"}, "due", ""),
    ],
)
def test_bad_input_is_refused_at_its_field(app, login_as, published, changes, field, words):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get(URL).get_data(as_text=True)
    refused = admin.post_form(URL, {**GOOD, **changes, "base": _base(page)})
    assert refused.status_code == 422
    body = html.unescape(refused.get_data(as_text=True))
    message = re.search(rf'<small id="{field}-error" class="field-error">(.*?)</small>', body, re.S)
    assert message and words in message.group(1) and message.group(1).strip()
    assert f'aria-describedby="{field}-error"' in body
    with app.app_context():
        assert services.latest_version("offboarding").number == 1
