"""The case page's "why?" disclosures: next to the approvals required and to each rule
result, the evaluation in words, in zh-CN (the default) and in English."""

from __future__ import annotations

import html
import re

import pytest
from conftest import Client
from workflows.explain_support import KEY, explain_spec
from workflows.inbox_support import PASSWORD, SPEC, install, new_case


@pytest.fixture
def world(app):
    with app.app_context():
        return install(SPEC, explain_spec())


def page_for(app, case_id: int, language: str | None) -> str:
    client = Client(app.test_client())
    assert client.login("fin1", PASSWORD).status_code == 302
    if language:
        client.get(f"/lang/{language}")
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, element_id: str, end: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index(end, start)]


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def case_id(app, amount="3000") -> int:
    with app.app_context():
        return new_case(amount, key=KEY, reviewer="fin1").id


def test_the_approvals_required_can_be_opened_in_english(app, world):
    page = page_for(app, case_id(app), "en")
    approvals = section(page, "approvals", "</section>")
    assert '<details class="why">' in approvals and "<summary>Why?</summary>" in approvals
    words = text(approvals)
    assert "data.amount = 3000" in words
    assert "lookup(limits, B, dual_approval_above) = 2000" in words
    assert "condition 1 (true) is met → 2" in words
    assert "data.amount (3000) > lookup(limits, B, dual_approval_above) (2000) → true" in words


def test_each_rule_result_can_be_opened(app, world):
    page = page_for(app, case_id(app), "en")
    rules = section(page, "rules", "</article>")
    assert (
        rules.count('<details class="why">') == 3
    )  # the fee (compute), the cap (validate), reviewer (required)
    words = text(rules)
    assert "data.amount (3000) <= 50000 → true" in words
    assert "data.amount (3000) * 0.06 → 180" in words
    assert "required Required when" in words  # the required-if row: its result and its kind
    assert "data.amount (3000) > lookup(limits, B, dual_approval_above) (2000) → true" in words


def test_a_guard_and_a_checklist_item_required_by_a_rule_can_be_opened(app, world):
    page = page_for(app, case_id(app), "en")
    actions = section(page, "actions", "</section>")
    assert "Why can “Reject” be done or not?" in text(actions)
    assert "data.amount (3000) < 100000 → true" in text(actions)
    checklist = text(section(page, "checklist", "</article>"))
    assert "Why is it required or not?" in checklist
    assert "data.amount (3000) > 1000 → true" in checklist
    chinese = page_for(app, case_id(app), None)
    assert "为什么必需或非必需？" in text(section(chinese, "checklist", "</article>"))
    assert "可以或不可以执行？" in text(section(chinese, "actions", "</section>"))


def test_the_chinese_page_explains_in_chinese(app, world):
    page = page_for(app, case_id(app), None)  # zh-CN by default
    approvals = text(section(page, "approvals", "</section>"))
    assert "为什么？" in approvals and "读取的值" in approvals and "步骤" in approvals
    assert "满足第 1 个条件（是）→ 2" in approvals
    assert "data.amount (3000) > lookup(limits, B, dual_approval_above) (2000) → 是" in approvals
    for english in ("Why?", "Values read", "Steps", "condition", "true", "false"):
        assert english not in approvals
    rules = text(section(page, "rules", "</article>"))
    assert "为什么？" in rules and "Why?" not in rules


def test_below_the_threshold_the_page_says_why_one(app, world):
    approvals = text(section(page_for(app, case_id(app, "1500"), "en"), "approvals", "</section>"))
    assert "no condition is met → 1" in approvals
