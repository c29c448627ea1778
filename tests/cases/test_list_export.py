"""The case list with workflows: the state filter offers each process's states by title
(and finds workflow cases), the list shows titles, totals (count; the amount of one
process), and exports (CSV with a BOM, XLSX) of exactly what the list shows the viewer."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal

import pytest
from cases.cases_support import publish_process
from conftest import Client
from workflows.inbox_support import PASSWORD, SPEC, checklist_spec, install, user

from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.extensions import db


@pytest.fixture
def world(app):
    """wf_inbox: two cases in review (one for a customer whose name looks like a formula),
    one draft; wf_inbox_checklist: one in review; t_payment (no workflow): one submitted."""
    with app.app_context():
        install(SPEC, checklist_spec())
        publish_process("t_payment")
        customers.create("X300", "=HYPERLINK(1)", "C")
        staff = user("staff1")
        made = {}
        plan = [
            ("review_a", SPEC["key"], "W200", {"amount": Decimal("100.10"), "reviewer": "@SUM(1)"}, True),
            ("review_b", SPEC["key"], "X300", {"amount": Decimal("2000")}, True),
            ("draft", SPEC["key"], "W200", {"amount": Decimal("0.5")}, False),
            ("other", "wf_inbox_checklist", "W200", {"amount": Decimal("7")}, True),
            ("payment", "t_payment", "W200", {"amount": 3, "method": "bank"}, True),
        ]
        for hour, (name, key, code, data, submit) in enumerate(plan):
            case = cases.start(key, code, data, submit=submit, actor=staff)
            case.created_at = datetime(2026, 3, 3, 12 + hour)  # UTC; 20:00 and on in Shanghai
            made[name] = case.id
        db.session.commit()
        return made


def logged_in(app, name: str, language: str = "en") -> Client:
    client = Client(app.test_client())
    assert client.login(name, PASSWORD).status_code == 302
    client.raw.set_cookie("lang", language)
    return client


def listed(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td><a href="/cases/(\d+)">', page)]


def test_the_state_filter_offers_the_workflows_states_by_title_and_finds_their_cases(app, world):
    admin = logged_in(app, "admin1")
    page = admin.get("/cases/").get_data(as_text=True)
    assert '<optgroup label="Inbox test">' in page
    assert re.search(r'<option value="wf_inbox:review"\s*>Review</option>', page)
    assert re.search(r'<option value="t_payment:submitted"\s*>Submitted</option>', page)
    # the same state name in two processes: one option under each
    assert page.count('value="wf_inbox_checklist:review"') == 1
    zh = logged_in(app, "admin1", "zh_Hans_CN").get("/cases/").get_data(as_text=True)
    assert re.search(r'<option value="wf_inbox:review"\s*>审核</option>', zh)
    # choosing it finds the workflow's cases (it used to offer only draft/submitted)
    found = listed(admin.get("/cases/?state=wf_inbox:review").get_data(as_text=True))
    assert sorted(found) == sorted([world["review_a"], world["review_b"]])
    selected = admin.get("/cases/?state=wf_inbox:review").get_data(as_text=True)
    assert re.search(r'<option value="wf_inbox:review" selected>', selected)
    every_review = listed(admin.get("/cases/?state=review").get_data(as_text=True))
    assert sorted(every_review) == sorted([world["review_a"], world["review_b"], world["other"]])
    # with a process chosen, only its states are offered
    one = admin.get("/cases/?process=wf_inbox_checklist").get_data(as_text=True)
    assert 'value="wf_inbox_checklist:review"' in one and 'value="wf_inbox:review"' not in one


def test_the_list_shows_the_states_title_never_its_key(app, world):
    page = logged_in(app, "admin1").get("/cases/").get_data(as_text=True)
    badges = re.findall(r'<span class="badge[^"]*">([^<]+)</span>', page)
    assert "Review" in badges and "Draft" in badges and "Submitted" in badges
    assert "review" not in badges
    zh = logged_in(app, "admin1", "zh_Hans_CN").get("/cases/").get_data(as_text=True)
    zh_badges = re.findall(r'<span class="badge[^"]*">([^<]+)</span>', zh)
    assert "审核" in zh_badges and "填写" in zh_badges and "已提交" in zh_badges


def test_totals_count_what_matches_and_sum_the_amount_of_one_process(app, world):
    admin = logged_in(app, "admin1")
    page = admin.get("/cases/?process=wf_inbox").get_data(as_text=True)
    assert "3 cases match." in page
    assert "Total Amount: 2,100.60" in page  # 100.10 + 2000 + 0.5, exactly
    every = admin.get("/cases/").get_data(as_text=True)
    assert "5 cases match." in every and "Total" not in every  # no process chosen: no sum
    zh = logged_in(app, "admin1", "zh_Hans_CN").get("/cases/?process=wf_inbox").get_data(as_text=True)
    assert "共 3 项符合。" in zh and "Amount合计：2,100.60" in zh
    # the viewer's list: finance does not see staff's draft, in the count and the sum alike
    finance = logged_in(app, "fin1").get("/cases/?process=wf_inbox").get_data(as_text=True)
    assert "2 cases match." in finance and "Total Amount: 2,100.10" in finance


def _csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # Excel on Chinese Windows reads UTF-8 only with it
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_csv_export_is_exactly_what_the_list_shows(app, world):
    client = logged_in(app, "fin1")
    page = client.get("/cases/?process=wf_inbox").get_data(as_text=True)
    assert 'href="/cases/export.csv?process=wf_inbox"' in page
    assert 'href="/cases/export.xlsx?process=wf_inbox"' in page
    response = client.get("/cases/export.csv?process=wf_inbox")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = _csv(response)
    assert header[:7] == [
        "Case",
        "Process",
        "Customer code",
        "Customer name",
        "State",
        "Created",
        "Created by",
    ]
    assert header[7:] == ["Amount", "Fee", "Reviewer"]
    assert [int(row[0]) for row in rows] == listed(page)  # the same cases, in the same order
    by_id = {int(row[0]): row for row in rows}
    b = by_id[world["review_b"]]
    assert b[1:5] == ["Inbox test", "X300", "'=HYPERLINK(1)", "Review"]  # formula-like: quoted
    assert b[5] == "2026-03-03T21:00:00+08:00"  # 13:00 UTC, in the app's zone with its offset
    assert b[6] == "staff1" and b[7] == "2,000.00" and b[8] == "120.00"  # money: two places
    assert by_id[world["review_a"]][9] == "'@SUM(1)"
    assert world["draft"] not in by_id  # staff's draft is not finance's to read
    zh_header, *zh_rows = _csv(logged_in(app, "fin1", "zh_Hans_CN").get("/cases/export.csv?process=wf_inbox"))
    assert zh_header[:7] == ["业务单", "流程", "客户编号", "客户名称", "状态", "创建时间", "创建人"]
    assert {row[4] for row in zh_rows} == {"审核"} and zh_rows[0][1] == "收件箱测试"


def test_an_export_of_several_processes_has_the_fields_of_each(app, world):
    header, *rows = _csv(logged_in(app, "admin1").get("/cases/export.csv"))
    # one column per field name, in form order, process by process
    assert header[7:] == ["Amount", "Method", "Note", "Receipt", "Items", "Fee", "Reviewer"]
    payment = next(row for row in rows if int(row[0]) == world["payment"])
    assert payment[4] == "Submitted" and payment[7] == "3" and payment[8] == "bank"
    review = next(row for row in rows if int(row[0]) == world["review_b"])
    assert review[7] == "2,000.00" and review[8] == "" and review[header.index("Fee")] == "120.00"


def test_the_xlsx_export_holds_the_same_rows_with_amounts_as_numbers(app, world):
    from openpyxl import load_workbook

    client = logged_in(app, "fin1")
    response = client.get("/cases/export.xlsx?process=wf_inbox&state=wf_inbox:review")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:5] == ("Case", "Process", "Customer code", "Customer name", "State")
    assert sorted(row[0] for row in rows) == sorted([world["review_a"], world["review_b"]])
    b = next(row for row in rows if row[0] == world["review_b"])
    assert b[3] == "'=HYPERLINK(1)" and b[5] == datetime(2026, 3, 3, 21)  # a date and time, Shanghai's
    assert Decimal(str(b[7])) == Decimal("2000.00")
    cells = list(sheet.iter_rows(min_row=2, max_row=3))
    assert {row[7].number_format for row in cells} == {"#,##0.00"}  # shown as 2,000.00


def test_an_export_holds_every_case_the_list_keeps_however_many_pages(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    client = logged_in(app, "admin1")
    first = client.get("/cases/").get_data(as_text=True)
    assert len(listed(first)) == 2 and "An export holds" not in first  # no cap: it streams
    _header, *rows = _csv(client.get("/cases/export.csv"))
    assert len(rows) == 5 and [int(row[0]) for row in rows][:2] == listed(first)
