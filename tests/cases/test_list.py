"""Finding cases: each filter, keyset pagination, and the list page."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from cases.cases_support import new_customer, new_user, publish_process

from formflow.cases import services
from formflow.cases.services import CaseFilter
from formflow.errors import Invalid
from formflow.extensions import db


def _ids(filters: CaseFilter, size=100) -> list[int]:
    rows, _cursor = services.page(filters, after=None, size=size)
    return [row.id for row in rows]


@pytest.fixture
def cases(app):
    """Five cases on two processes, two customers, both states, three days (UTC noon = 20:00 in Shanghai)."""
    with app.app_context():
        return _make_cases()


def _make_cases() -> dict:
    publish_process("t_payment")
    publish_process("t_refund", name={"zh-CN": "退款", "en": "Refund"})
    new_customer("C100", "Alpha Trading")
    new_customer("C200", "北京贝塔科技")
    alice = new_user("alice")
    made = {}
    plan = [
        ("draft_pay", "t_payment", "C100", {"note": "Urgent 100%_done"}, False, datetime(2026, 3, 1, 12)),
        (
            "sub_pay",
            "t_payment",
            "C200",
            {"amount": 1, "method": "bank", "note": "月度缴费"},
            True,
            datetime(2026, 3, 2, 12),
        ),
        ("draft_refund", "t_refund", "C100", {"note": "routine"}, False, datetime(2026, 3, 2, 13)),
        ("sub_refund", "t_refund", "C200", {"amount": 2, "method": "cash"}, True, datetime(2026, 3, 3, 12)),
        # 23:30 UTC on the 3rd is already the 4th in Shanghai.
        ("late", "t_payment", "C100", {"note": "late night"}, False, datetime(2026, 3, 3, 23, 30)),
    ]
    for name, key, code, data, submit, created_at in plan:
        case = services.start(key, code, data, submit=submit, actor=alice)
        case.created_at = created_at
        made[name] = case.id
    db.session.commit()
    return made


def test_filter_by_process(app_ctx, cases):
    assert set(_ids(CaseFilter(process="t_refund"))) == {cases["draft_refund"], cases["sub_refund"]}


def test_filter_by_state(app_ctx, cases):
    assert set(_ids(CaseFilter(state="submitted"))) == {cases["sub_pay"], cases["sub_refund"]}


def test_filter_by_customer(app_ctx, cases):
    assert set(_ids(CaseFilter(customer="C200"))) == {cases["sub_pay"], cases["sub_refund"]}


def test_filter_by_creation_date_in_the_app_time_zone(app_ctx, cases):
    assert set(_ids(CaseFilter(created_from=date(2026, 3, 2), created_to=date(2026, 3, 2)))) == {
        cases["sub_pay"],
        cases["draft_refund"],
    }
    assert _ids(CaseFilter(created_from=date(2026, 3, 4))) == [cases["late"]]
    assert _ids(CaseFilter(created_to=date(2026, 3, 1))) == [cases["draft_pay"]]


def test_filter_by_text_in_data_and_customer(app_ctx, cases):
    assert _ids(CaseFilter(text="URGENT")) == [cases["draft_pay"]]
    assert _ids(CaseFilter(text="月度")) == [cases["sub_pay"]]
    assert set(_ids(CaseFilter(text="alpha"))) == {cases["draft_pay"], cases["draft_refund"], cases["late"]}
    assert set(_ids(CaseFilter(text="c200"))) == {cases["sub_pay"], cases["sub_refund"]}
    assert _ids(CaseFilter(text="贝塔")) == [cases["sub_refund"], cases["sub_pay"]]


def test_text_filter_escapes_like_wildcards(app_ctx, cases):
    assert _ids(CaseFilter(text="100%_")) == [cases["draft_pay"]]
    assert _ids(CaseFilter(text="%")) == [cases["draft_pay"]]
    assert _ids(CaseFilter(text="_")) == [cases["draft_pay"]]


def test_filters_combine(app_ctx, cases):
    assert _ids(CaseFilter(process="t_payment", state="draft", customer="C100", text="late")) == [
        cases["late"]
    ]


def test_keyset_pagination_walks_every_case_once_newest_first(app_ctx, cases):
    seen, cursor = [], None
    while True:
        rows, cursor = services.page(CaseFilter(), after=cursor, size=2)
        seen.extend(row.id for row in rows)
        if cursor is None:
            break
    expected = [cases[n] for n in ("late", "sub_refund", "draft_refund", "sub_pay", "draft_pay")]
    assert seen == expected


def test_pagination_is_stable_when_cases_share_a_timestamp(app_ctx):
    publish_process("t_payment")
    new_customer("C100")
    alice = new_user("alice")
    same = datetime(2026, 1, 1, 8)
    made = []
    for _ in range(5):
        case = services.start("t_payment", "C100", {}, submit=False, actor=alice)
        case.created_at = same
        made.append(case.id)
    db.session.flush()
    first, cursor = services.page(CaseFilter(), after=None, size=3)
    second, last = services.page(CaseFilter(), after=cursor, size=3)
    assert [c.id for c in first + second] == sorted(made, reverse=True) and last is None


@pytest.mark.parametrize("cursor", ["yesterday", "2026-01-01T00:00:00_x", f"2026-01-01T00:00:00_{10**20}"])
def test_a_broken_cursor_is_invalid(app_ctx, cursor):
    with pytest.raises(Invalid):
        services.page(CaseFilter(), after=cursor, size=5)


def test_list_page_filters_and_links_the_next_page(app, cases, login_as):
    auditor = login_as("admin")  # drafts are their author's and administrators'
    app.config["PAGE_SIZE"] = 2
    try:
        first = auditor.get("/cases/?state=draft")
        assert first.status_code == 200
        html = first.get_data(as_text=True)
        assert f"/cases/{cases['late']}" in html and f"/cases/{cases['draft_refund']}" in html
        assert f'/cases/{cases["sub_pay"]}"' not in html
        next_url = re.search(r'href="(/cases/\?[^"]*after=[^"]+)"', html).group(1).replace("&amp;", "&")
        assert "state=draft" in next_url
        second = auditor.get(next_url).get_data(as_text=True)
        assert f'/cases/{cases["draft_pay"]}"' in second and "after=" not in second
    finally:
        app.config["PAGE_SIZE"] = 50


def test_list_page_text_and_date_filters(app, cases, login_as):
    reader = login_as("admin")
    html = reader.get("/cases/?q=alpha&created_from=2026-03-02&created_to=2026-03-02").get_data(as_text=True)
    assert f'href="/cases/{cases["draft_refund"]}"' in html
    assert f'href="/cases/{cases["draft_pay"]}"' not in html
    assert reader.get("/cases/?created_from=March").status_code == 422


def test_list_shows_process_names_in_the_users_language(app, cases, login_as):
    reader = login_as("risk")
    assert "退款" in reader.get("/cases/").get_data(as_text=True)
    reader.raw.set_cookie("lang", "en")
    assert "Refund" in reader.get("/cases/").get_data(as_text=True)
