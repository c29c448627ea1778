"""The case page: the step and who it waits for, approvals given and still needed, the
actions as buttons with a comment box (refusals shown on the page, never a 500), computed
values and rule results, and a history of everything from the audit log."""

from __future__ import annotations

import copy
import html
import re

import pytest
from conftest import Client
from workflows.inbox_support import PASSWORD, SPEC, checklist_spec, install, new_case, user

from formflow.cases.models import Case
from formflow.extensions import db
from formflow.workflows import checklists, engine, inbox


@pytest.fixture
def world(app):
    with app.app_context():
        return install()


def logged_in(app, name: str, language: str = "en") -> Client:
    client = Client(app.test_client())
    assert client.login(name, PASSWORD).status_code == 302
    client.get(f"/lang/{language}")
    return client


def page_of(client: Client, case_id: int) -> str:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, element_id: str) -> str:
    """The text of the element with this id, up to the next section/article end."""
    start = page.index(f'id="{element_id}"')
    end = min(i for i in (page.find("</section>", start), page.find("</article>", start)) if i != -1)
    return page[start:end]


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_a_finance_user_sees_the_step_the_approvals_needed_and_the_actions(app, world):
    with app.app_context():
        case_id = new_case("2000").id  # above 1000: two distinct approvals
    page = page_of(logged_in(app, "fin1"), case_id)
    workflow = text(section(page, "workflow"))
    assert "Step: Review" in workflow and "Waiting for" in workflow and "Finance" in workflow
    approvals = text(section(page, "approvals"))
    assert "0 of 2 given (by different people)" in approvals
    assert "2 more needed from Finance" in approvals
    actions = section(page, "actions")
    assert 'name="comment"' in actions and 'name="csrf_token"' in actions
    assert re.search(r'name="lock_version" value="\d+"', actions)
    for name, title in (("approve", "Approve"), ("reject", "Reject"), ("return", "return")):
        assert f'formaction="/cases/{case_id}/actions/{name}"' in actions
        assert f">{title}</button>" in actions
    assert "A comment is required for: Reject and return" in text(actions)  # an English list


def test_spec_titles_follow_the_language(app, world):
    with app.app_context():
        case_id = new_case("100").id
    page = page_of(logged_in(app, "fin1", "zh_CN"), case_id)
    assert "审核" in text(section(page, "workflow")) and ">批准</button>" in page


def test_approvals_given_are_listed_and_the_approver_cannot_approve_again(app, world):
    with app.app_context():
        case = new_case("2000")
        engine.perform(case, "approve", user("fin1"), comment="凭证齐全")
        db.session.commit()
        case_id = case.id
    page = page_of(logged_in(app, "fin1"), case_id)
    approvals = text(section(page, "approvals"))
    assert "1 of 2 given" in approvals and "1 more needed" in approvals
    assert "fin1" in approvals and "凭证齐全" in approvals
    approve_button = re.search(r"<button[^>]*actions/approve[^>]*>", page).group(0)
    assert "disabled" in approve_button and "Already approved by you" in html.unescape(approve_button)
    other = page_of(logged_in(app, "fin2"), case_id)
    assert "disabled" not in re.search(r"<button[^>]*actions/approve[^>]*>", other).group(0)


def test_someone_without_a_part_sees_the_case_but_no_actions(app, world):
    with app.app_context():
        case_id = new_case("100").id
    for name in ("aud1", "staff1"):  # staff1 started it: not their step
        page = page_of(logged_in(app, name), case_id)
        assert "Nothing for you to do at this step." in page
        assert "formaction=" not in page


def test_taking_an_action_from_the_page(app, world):
    with app.app_context():
        case = new_case("100")
        case_id, lock = case.id, case.lock_version
    client = logged_in(app, "fin1")
    response = client.post_form(
        f"/cases/{case_id}/actions/approve",
        {"comment": "OK", "lock_version": lock},
        token_page=f"/cases/{case_id}",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case_id}")
    page = page_of(client, case_id)
    assert "flash-success" in page and "Approved" in text(section(page, "workflow"))
    assert "The case is closed." in page


@pytest.mark.parametrize(
    "who, action, form, status, message",
    [
        ("fin1", "reject", {}, 422, "A comment is required for this action."),
        ("aud1", "approve", {}, 403, "You do not have permission to do this."),
        ("fin1", "approve", {"lock_version": 999}, 409, "changed by someone else"),
        ("fin1", "no-such-action", {}, 422, "is not possible while the case is at"),
    ],
)
def test_a_refused_action_is_shown_on_the_case_page(app, world, who, action, form, status, message):
    with app.app_context():
        case_id = new_case("100").id
    client = logged_in(app, who)
    response = client.post_form(
        f"/cases/{case_id}/actions/{action}", {"comment": "", **form}, token_page=f"/cases/{case_id}"
    )
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in html.unescape(text(section(page, "actions")))
    assert 'role="alert"' in section(page, "actions")
    with app.app_context():
        assert db.session.get(Case, case_id).state == "review"  # nothing of it stayed


def test_the_comment_typed_is_kept_when_the_action_is_refused(app, world):
    with app.app_context():
        case_id = new_case("100").id
    client = logged_in(app, "fin1")
    response = client.post_form(
        f"/cases/{case_id}/actions/approve", {"comment": "<b>see</b> note", "lock_version": 0}, token_page="/"
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "&lt;b&gt;see&lt;/b&gt; note</textarea>" in page  # kept, and escaped


def test_computed_values_and_rule_results_are_shown(app, world):
    with app.app_context():
        case_id = new_case("100").id
    rules = text(section(logged_in(app, "fin1").get(f"/cases/{case_id}").get_data(as_text=True), "rules"))
    assert "Fee fee 6.00" in rules
    assert "Amount amount-below-cap ✓ met" in rules


def test_the_checklist_panel_is_on_the_page(app, world):
    with app.app_context():
        install_checklist = checklist_spec()
        from formflow.processes import services as processes

        processes.import_spec(install_checklist)
        processes.publish(install_checklist["key"])
        db.session.commit()
        case_id = new_case("100", key="wf_inbox_checklist").id
    page = page_of(logged_in(app, "fin1"), case_id)
    assert 'id="checklist"' in page and "Check the evidence" in page
    assert f'action="/cases/{case_id}/checklist/evidence"' in page


def test_the_history_shows_every_transition_approval_comment_checklist_and_reassignment(app, world):
    with app.app_context():
        from formflow.processes import services as processes

        spec = checklist_spec()
        processes.import_spec(spec)
        processes.publish(spec["key"])
        db.session.commit()
        case = new_case("2000", key="wf_inbox_checklist")
        checklists.tick(case, "evidence", user("fin1"), note="三张发票")
        engine.perform(case, "approve", user("fin1"), comment="第一位")
        inbox.reassign(case, user("fin2"), user("mgr1"))
        engine.perform(case, "return", user("fin2"), comment="请补充说明")
        db.session.commit()
        case_id = case.id
    history = section(page_of(logged_in(app, "aud1"), case_id), "history")
    entries = [text(li) for li in re.findall(r"<li class=\"timeline-entry.*?</li>", history, re.S)]
    kinds = re.findall(r'class="timeline-entry timeline-(\w+)"', history)
    assert kinds[:2] == ["created", "transition"]  # started, entering the start state
    joined = " | ".join(entries)
    for expected in (
        "Case created.",
        "Draft → Review",
        "Checklist item “Check the evidence” ticked. 三张发票",
        "Approved at Review.",
        "第一位",
        "Reassigned to fin2.",
        "Review → Draft",
        "请补充说明",
    ):
        assert expected in joined, expected
    assert kinds.count("approval") == 1 and kinds.count("checklist") == 1 and kinds.count("reassignment") == 1
    assert (
        joined.index("Approved at Review.")
        < joined.index("Reassigned to fin2.")
        < joined.index("Review → Draft")
    )
    assert "fin1" in entries[kinds.index("approval")]


def test_the_history_shows_effects_and_timers(app, world):
    spec = copy.deepcopy(SPEC)
    spec["key"] = "wf_inbox_effects"
    review = spec["workflow"]["states"]["review"]
    review["sla"] = {"due": "PT48H", "on_expire": {"do": "escalate", "role": "manager"}}
    spec["workflow"]["states"]["approved"]["on_enter"] = [
        {"effect": "set_field", "field": "/reviewer", "value": {"var": "user.username"}}
    ]
    with app.app_context():
        from formflow.processes import services as processes

        processes.import_spec(spec)
        processes.publish(spec["key"])
        db.session.commit()
        case = new_case("100", key="wf_inbox_effects")
        engine.perform(case, "approve", user("fin1"))
        db.session.commit()
        case_id = case.id
    history = text(section(page_of(logged_in(app, "aud1"), case_id), "history"))
    assert "Due time of Review set" in history
    assert "Set Reviewer: — → fin1." in history


def test_a_case_without_a_workflow_still_shows_its_history(app, world):
    from cases.cases_support import publish_process

    with app.app_context():
        publish_process("t_plain")
        from formflow.cases import services as cases

        case = cases.start(
            "t_plain", "W200", {"amount": 5, "method": "bank"}, submit=True, actor=user("staff1")
        )
        db.session.commit()
        case_id = case.id
    client = logged_in(app, "staff1")
    page = page_of(client, case_id)
    assert 'id="workflow"' not in page
    assert "Case created." in text(section(page, "history"))
    refused = client.post_form(f"/cases/{case_id}/actions/submit", {}, token_page="/")
    assert refused.status_code == 422
    assert "is not possible while the case is at" in html.unescape(refused.get_data(as_text=True))
