"""The inbox page as an approver uses it: the columns that decide (customer, amount or the
fields a form marks, who started the case, waiting since, due), sorting and filtering by
query arguments, select-all for bulk approval (with and without JavaScript), the home card
counting what the badge counts, and steps that wait on nobody (a timer moves them on)."""

from __future__ import annotations

import copy
import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from conftest import Client
from workflows.inbox_support import PASSWORD, SPEC, checklist_spec, install, user

from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.extensions import db, utcnow
from formflow.processes import services as processes
from formflow.workflows import engine, inbox
from formflow.workflows.models import Timer


@pytest.fixture
def world(app):
    with app.app_context():
        ids = install(SPEC, checklist_spec())
        customers.create("A100", "Acme 上海", "A")
        db.session.commit()
        return ids


def logged_in(app, name: str, language: str = "en") -> Client:
    client = Client(app.test_client())
    assert client.login(name, PASSWORD).status_code == 302
    client.raw.set_cookie("lang", language)
    return client


def case_for(amount: str, customer: str = "W200", key: str = SPEC["key"], hours_waiting: int = 1):
    started = cases.start(key, customer, {"amount": Decimal(amount)}, submit=True, actor=user("staff1"))
    started.state_entered_at = utcnow() - timedelta(hours=hours_waiting)
    db.session.commit()
    return started.id


def due(case_id: int, hours_from_now: float) -> None:
    case = cases.get(case_id)
    db.session.add(
        Timer(
            case_id=case.id,
            state=case.state,
            round=case.state_round,
            kind="due",
            fire_at=utcnow() + timedelta(hours=hours_from_now),
        )
    )
    db.session.commit()


def listed(page: str) -> list[int]:
    """The case ids of the inbox's rows, in order."""
    return [int(n) for n in re.findall(r'<tr class="[^"]*" data-case="(\d+)">', page)]


def test_the_inbox_shows_the_columns_that_decide_in_both_languages(app, world):
    with app.app_context():
        first = case_for("12345.6", "A100", hours_waiting=5)
        due(first, 3)
    client = logged_in(app, "fin1")
    page = client.get("/inbox").get_data(as_text=True)
    row = page[page.index(f'data-case="{first}"') :].split("</tr>")[0]
    assert "<strong>A100</strong> Acme 上海" in row
    assert "12,345.60" in row  # the form's first money field, two places and grouping
    assert "staff1" in row  # who started it
    for header in ("Customer", "Amount", "Started by", "Waiting since", "Due"):
        assert f">{header}" in page
    zh = logged_in(app, "fin1", "zh_Hans_CN").get("/inbox").get_data(as_text=True)
    for header in ("客户", "金额", "发起人", "到达时间", "到期时间"):
        assert f">{header}" in zh
    assert "12,345.60" in zh


def test_the_inbox_sorts_by_amount_customer_due_and_waiting_since(app, world):
    with app.app_context():
        small = case_for("100", "W200", hours_waiting=1)
        large = case_for("2000", "A100", hours_waiting=3)
        middle = case_for("500", "W200", hours_waiting=2)
        due(middle, 1)
        due(small, 5)
    client = logged_in(app, "fin1")

    def order(query: str) -> list[int]:
        return listed(client.get(f"/inbox?{query}").get_data(as_text=True))

    assert order("sort=amount") == [small, middle, large]
    assert order("sort=-amount") == [large, middle, small]
    assert order("sort=customer")[0] == large  # A100 before W200
    assert order("sort=due") == [middle, small, large]  # no due time: last either way
    assert order("sort=-due") == [small, middle, large]
    assert order("sort=since") == [large, middle, small]  # the longest waiting first
    assert order("sort=-since") == [small, middle, large]
    assert order("") == [large, middle, small]  # default: overdue first, then the longest waiting
    # a sorted column's header says so and links to the other direction
    page = client.get("/inbox?sort=amount").get_data(as_text=True)
    assert 'aria-sort="ascending"' in page and "sort=-amount" in page


def test_the_inbox_filters_by_process_state_customer_and_overdue(app, world):
    with app.app_context():
        plain = case_for("100", "W200")
        checked = case_for("200", "A100", key="wf_inbox_checklist")
        late = case_for("300", "W200")
        due(late, -1)  # overdue an hour ago
    client = logged_in(app, "fin1")

    def shown(query: str) -> set[int]:
        return set(listed(client.get(f"/inbox?{query}").get_data(as_text=True)))

    assert shown("") == {plain, checked, late}
    assert shown("process=wf_inbox_checklist") == {checked}
    assert shown("state=wf_inbox:review") == {plain, late}
    assert shown("state=review") == {plain, checked, late}
    assert shown("customer=acme") == {checked}  # part of the name, any case
    assert shown("customer=w2") == {plain, late}  # part of the code, any case
    assert shown("overdue=1") == {late}
    assert shown("process=wf_inbox&customer=a100") == set()
    page = client.get("/inbox?customer=acme").get_data(as_text=True)
    assert "1 of 3 match." in page and 'value="acme"' in page
    # the choices offer the processes and states waiting, the state by its title
    assert '<option value="wf_inbox:review"' in page and ">Review</option>" in page
    zh = logged_in(app, "fin1", "zh_Hans_CN").get("/inbox?overdue=1").get_data(as_text=True)
    assert "仅看逾期" in zh and "3 项中 1 项符合" in zh
    empty = client.get("/inbox?customer=nobody").get_data(as_text=True)
    assert "No case waiting for you matches these filters." in empty


def test_a_page_link_keeps_the_filters_and_the_order(app, world):
    app.config["PAGE_SIZE"] = 2
    try:
        with app.app_context():
            for amount in ("100", "200", "300"):
                case_for(amount, "W200")
        page = logged_in(app, "fin1").get("/inbox?sort=-amount&customer=w200").get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = 50
    [link] = re.findall(r'href="(/inbox\?[^"]*page=2[^"]*)"', page)
    link = html.unescape(link)
    assert "sort=-amount" in link and "customer=w200" in link


def test_select_all_is_offered_to_scripts_and_each_box_works_without(app, world):
    with app.app_context():
        quick = case_for("100")
        needs_checklist = case_for("100", key="wf_inbox_checklist")
    page = logged_in(app, "fin1").get("/inbox").get_data(as_text=True)
    # hidden until the script shows it; without JavaScript each case is ticked on its own
    assert re.search(r'<input type="checkbox" data-select-all hidden', page)
    assert '<script src="/static/js/inbox.js" defer></script>' in page
    assert f'name="case" value="{quick}"' in page
    assert f'name="case" value="{needs_checklist}"' not in page  # needs input: not bulk-approvable
    script = logged_in(app, "fin1").get("/static/js/inbox.js")
    assert script.status_code == 200 and b"data-select-all" in script.get_data()
    script.close()


def test_bulk_approval_goes_back_to_the_inbox_as_it_was_filtered(app, world):
    with app.app_context():
        first, second = case_for("100"), case_for("100")
    client = logged_in(app, "fin1")
    response = client.post_form(
        "/inbox/bulk-approve",
        {"case": [first, second], "next": "/inbox?sort=-amount&customer=w200"},
        token_page="/inbox",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox?sort=-amount&customer=w200"
    elsewhere = client.post_form(
        "/inbox/bulk-approve", {"case": [], "next": "https://evil.example/"}, token_page="/inbox"
    )
    assert elsewhere.headers["Location"] == "/inbox"  # never off the site
    with app.app_context():
        assert {cases.get(first).state, cases.get(second).state} == {"approved"}


def test_fields_a_form_marks_as_summary_are_shown_in_the_inbox(app, world):
    spec = copy.deepcopy(SPEC)
    spec["key"] = "wf_inbox_summary"
    spec["form"]["uiSchema"] = {
        "reviewer": {"ui:options": {"summary": True}, "ui:title": {"zh-CN": "复核人", "en": "Checker"}}
    }
    with app.app_context():
        processes.import_spec(spec)
        processes.publish(spec["key"])
        started = cases.start(
            spec["key"],
            "W200",
            {"amount": Decimal("7"), "reviewer": "王五"},
            submit=True,
            actor=user("staff1"),
        )
        db.session.commit()
        case_id = started.id
    page = logged_in(app, "fin1").get("/inbox").get_data(as_text=True)
    row = page[page.index(f'data-case="{case_id}"') :].split("</tr>")[0]
    assert "7.00" in row and "Checker: 王五" in row
    zh = logged_in(app, "fin1", "zh_Hans_CN").get("/inbox").get_data(as_text=True)
    assert "复核人: 王五" in zh


def test_the_home_card_counts_what_the_inbox_badge_counts(app, world):
    with app.app_context():
        for amount in ("100", "200", "300"):
            case_for(amount)
        assert inbox.count_for(user("fin1")) == 3
    for language, text in (("en", "3 cases are waiting for you."), ("zh_Hans_CN", "有 3 项待您处理。")):
        home = logged_in(app, "fin1", language).get("/").get_data(as_text=True)
        assert 'class="badge nav-count">3<' in home
        assert text in home and 'href="/inbox"' in home
    idle = logged_in(app, "staff2").get("/").get_data(as_text=True)
    assert "nav-count" not in idle and "Nothing is waiting for you." in idle


# --- steps that wait on nobody ---------------------------------------------------------------


def window_spec(**executed) -> dict:
    """The inbox process with an `executed` step after the review: automatic, closed by a
    timer (or as `executed` says), with a `close` action finance may take."""
    spec = copy.deepcopy(SPEC)
    spec["key"] = "wf_inbox_window"
    states = spec["workflow"]["states"]
    states["review"]["actions"]["approve"]["to"] = "executed"
    states["executed"] = {
        "kind": "automatic",
        "title": {"zh-CN": "申诉期", "en": "Dispute window"},
        "sla": {"due": "P14D", "on_expire": {"do": "action", "action": "close"}},
        "actions": {"close": {"to": "approved", "roles": ["finance"]}},
        **executed,
    }
    return spec


@pytest.mark.parametrize(
    "executed, waits",
    [
        ({}, False),  # automatic, no assignee, a timer's action ends it: nobody
        ({"inbox": True}, True),  # the spec says it waits on whoever may act
        ({"sla": {"due": "P14D"}}, True),  # no timer moves it on: finance must act
        ({"assignee": {"role": "finance"}}, True),
    ],
)
def test_a_step_a_timer_ends_waits_on_nobody_unless_the_spec_says_otherwise(app, world, executed, waits):
    with app.app_context():
        spec = window_spec(**executed)
        processes.import_spec(spec)
        processes.publish(spec["key"])
        case = cases.get(case_for("100", key=spec["key"]))
        engine.perform(case, "approve", user("fin1"))
        db.session.commit()
        assert case.state == "executed" and engine.can_act(case, user("fin2"), "close")
        assert (case.id in [row.case.id for row in inbox.waiting_for(user("fin2"))]) is waits
        case_id = case.id
    page = logged_in(app, "fin2").get(f"/cases/{case_id}").get_data(as_text=True)
    assert ("Nobody: the step ends by itself when it is due." in page) is not waits


def test_a_state_marked_inbox_false_waits_on_nobody(app, world):
    spec = copy.deepcopy(SPEC)
    spec["key"] = "wf_inbox_quiet"
    spec["workflow"]["states"]["review"]["inbox"] = False
    with app.app_context():
        processes.import_spec(spec)
        processes.publish(spec["key"])
        case_id = case_for("100", key=spec["key"])
        assert case_id not in [row.case.id for row in inbox.waiting_for(user("fin1"))]
        assert engine.can_act(cases.get(case_id), user("fin1"), "approve")  # may act, is not asked
    for language, text in (
        ("en", "Nobody is asked to act at this step."),
        ("zh_Hans_CN", "此环节不要求任何人处理。"),
    ):
        page = logged_in(app, "fin1", language).get(f"/cases/{case_id}").get_data(as_text=True)
        assert text in page


def test_an_executed_deduction_in_its_dispute_window_is_in_nobodys_inbox(app):
    """configs/deduction.json: "executed" is automatic, has no assignee, and its SLA closes it."""
    from formflow.auth import services as auth
    from formflow.demo import DEMO_PASSWORD, load_demo

    with app.app_context():
        load_demo(echo=lambda _line: None)
        token = _evidence(auth.find_user("staff"))
        data = {
            "reason": "quality",
            "amount": Decimal("80.00"),
            "incident_date": "2026-11-20",
            "evidence": token,
        }
        case = cases.start("deduction", "C001", data, submit=True, actor=auth.find_user("staff"))
        engine.perform(case, "approve", auth.find_user("finance"))
        db.session.commit()
        assert case.state == "executed"
        for name in ("admin", "staff", "finance", "manager", "risk", "auditor"):
            assert case.id not in [row.case.id for row in inbox.waiting_for(auth.find_user(name))], name
        case_id = case.id
    for language, text in (
        ("en", "Nobody: the step ends by itself when it is due."),
        ("zh_Hans_CN", "无人：到期后此环节自动结束。"),
    ):
        client = Client(app.test_client())
        assert client.login("finance", DEMO_PASSWORD).status_code == 302
        client.raw.set_cookie("lang", language)
        assert text in client.get(f"/cases/{case_id}").get_data(as_text=True)
        assert 'class="badge nav-count"' not in client.get("/inbox").get_data(as_text=True)


def _evidence(actor) -> str:
    import io

    from werkzeug.datastructures import FileStorage

    from formflow.cases import uploads

    upload = FileStorage(
        io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\n"), "收货单.pdf", content_type="application/pdf"
    )
    return uploads.store_upload("/evidence", upload, {}, actor=actor)
