"""The workflow diagram: every state and action drawn, in the reader's language, unreachable
states and dead ends marked; on the process page, the version page and a refused JSON edit."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from formflow.extensions import db
from formflow.processes import diagram, services

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _offboarding() -> dict:
    return json.loads((CONFIGS / "offboarding.json").read_text(encoding="utf-8"))


def test_every_state_and_action_is_drawn(english):
    spec = _offboarding()
    svg = str(diagram.workflow_svg(spec))
    states = spec["workflow"]["states"]
    assert svg.count('<g class="state') == len(states)
    actions = sum(len(state.get("actions") or {}) for state in states.values())
    assert svg.count('<g class="action"') == actions
    assert "Rectification period" in svg and "SLA P30D" in svg  # titles in English, the timer's due
    desc = html.unescape(re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1))
    assert "Evaluation → Formal notice: Proceed with offboarding" in desc
    assert "unreachable" not in svg and "cannot be reached" not in desc
    assert 'stroke-dasharray="4 3"' in svg  # the arrow the rectification timer takes


def test_unreachable_states_and_dead_ends_are_marked(english):
    spec = _offboarding()
    states = spec["workflow"]["states"]
    states["orphan"] = {"kind": "automatic", "title": {"zh-CN": "孤立", "en": "Orphan"}}
    states["loop"] = {"kind": "automatic", "title": {"zh-CN": "循环", "en": "Loop"},
                      "actions": {"again": {"to": "loop", "roles": ["risk"]}}}  # fmt: skip
    states["resolved"]["kind"] = "final"
    states["draft"]["actions"]["stall"] = {"to": "loop", "roles": ["staff"]}
    svg = str(diagram.workflow_svg(spec))
    orphan = re.search(r'<g class="state[^"]*" data-state="orphan">.*?</g>', svg, re.S).group(0)
    loop = re.search(r'<g class="state[^"]*" data-state="loop">.*?</g>', svg, re.S).group(0)
    assert "unreachable" in orphan and "#c62828" in orphan
    assert "no way to an end" in loop and "dead-end" in loop
    desc = html.unescape(re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1))
    assert "Orphan cannot be reached from the start." in desc
    assert "From Loop no final state can be reached." in desc


def test_titles_are_escaped_and_no_workflow_draws_nothing(english):
    spec = _offboarding()
    spec["workflow"]["states"]["draft"]["title"] = {"zh-CN": "<script>", "en": "<b>x</b>"}
    svg = str(diagram.workflow_svg(spec))
    assert "<b>x</b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert str(diagram.workflow_svg({"form": {}})) == ""


def test_the_pages_show_the_diagram(app, login_as):
    with app.app_context():
        services.import_spec(_offboarding())
        db.session.commit()
    admin = login_as("admin")
    page = admin.get("/admin/processes/offboarding").get_data(as_text=True)
    assert 'data-testid="workflow-diagram"' in page and "整改期" in page
    assert 'data-testid="workflow-diagram"' in admin.get("/admin/processes/offboarding/versions/1").get_data(
        as_text=True
    )
    broken = _offboarding()
    broken["workflow"]["states"]["orphan"] = {"kind": "automatic", "title": {"zh-CN": "孤立", "en": "Orphan"}}
    refused = admin.post_form(
        "/admin/processes/offboarding/edit", {"text": json.dumps(broken, ensure_ascii=False)}
    )
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'data-state="orphan"' in body and "无法到达" in body  # marked, in Chinese
    with app.app_context():
        assert services.latest_version("offboarding").number == 1
