"""Choosing the customer of a new case: a search endpoint for search-as-you-type (any case,
code or name, at most 20), and the choose step taking a code in any case or an exact name,
with a message next to the field (422) for an unknown or ambiguous entry."""

from __future__ import annotations

import pytest
from cases.cases_support import new_customer, publish_process

NEW = "/cases/new?process=t_payment&customer={}"


@pytest.fixture
def customers(app):
    with app.app_context():
        publish_process("t_payment")
        new_customer("C100", "上海测试有限公司", "B")
        new_customer("AB-7", "Acme Trading", "A")
        new_customer("X900", "acme trading", "C")  # same name as AB-7, other case
        new_customer("Z001", "Zeta 100% Foods", "C")


@pytest.fixture
def staff(login_as):
    return login_as("staff")


def test_the_search_finds_customers_by_part_of_code_or_name_in_any_case(customers, staff):
    assert staff.get("/customers/search?q=c10").json == [
        {"code": "C100", "name": "上海测试有限公司", "tier": "B"}
    ]
    assert [c["code"] for c in staff.get("/customers/search?q=ACME").json] == ["AB-7", "X900"]
    assert [c["code"] for c in staff.get("/customers/search?q=测试").json] == ["C100"]
    assert [c["code"] for c in staff.get("/customers/search?q=100%25").json] == ["Z001"]  # % is no wildcard
    assert staff.get("/customers/search?q=").json == []
    assert staff.get("/customers/search?q=nobody").json == []


def test_the_search_puts_the_code_first_and_gives_at_most_20(app, staff):
    with app.app_context():
        for n in range(25):
            new_customer(f"K{n:03d}", f"Kilo {n}", "B")
        new_customer("K", "Kay", "A")
    found = staff.get("/customers/search?q=k").json
    assert len(found) == 20 and found[0]["code"] == "K"


def test_only_those_who_start_cases_search(customers, login_as, client):
    assert login_as("finance").get("/customers/search?q=c").status_code == 403
    assert login_as("admin").get("/customers/search?q=c").status_code == 200
    anonymous = client.get("/customers/search?q=c")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


@pytest.mark.parametrize("typed", ["c100", "C100", " c100 ", "上海测试有限公司"])
def test_a_code_in_any_case_or_an_exact_name_chooses_the_customer(customers, staff, typed):
    response = staff.get(NEW.format(typed))
    assert response.status_code in (200, 302)
    if response.status_code == 302:  # the form's own address names the customer by its code
        assert response.headers["Location"] == "/cases/new?process=t_payment&customer=C100"
        response = staff.get(response.headers["Location"])
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "C100" in page and 'name="/amount"' in page


@pytest.mark.parametrize(
    "typed, english, chinese",
    [
        ("nobody", "No customer has the code or name nobody.", "没有编号或名称为“nobody”的客户。"),
        (
            "ACME TRADING",
            "ACME TRADING fits more than one customer (AB-7, X900): choose one by its code.",
            "“ACME TRADING”对应多个客户（AB-7, X900），请按编号选择。",
        ),
        ("", "Enter a customer code or name.", "请输入客户编号或名称。"),
    ],
)
def test_an_unknown_or_ambiguous_customer_is_named_next_to_the_field(
    customers, staff, typed, english, chinese
):
    for language, message in (("en", english), ("zh_Hans_CN", chinese)):
        staff.raw.set_cookie("lang", language)
        response = staff.get(NEW.format(typed))
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        error = page[page.index('id="customer-error"') :].split("</small>")[0]
        assert message in error.replace("&#34;", '"').replace("&#39;", "'")
        assert 'aria-invalid="true"' in page and f'value="{typed}"' in page  # what was typed is kept


def test_a_name_typed_in_its_very_case_wins_over_the_same_name_in_another(customers, staff):
    response = staff.get(NEW.format("acme trading"))
    assert response.headers["Location"] == "/cases/new?process=t_payment&customer=X900"


def test_the_choose_page_offers_search_as_you_type(customers, staff):
    page = staff.get("/cases/new").get_data(as_text=True)
    assert page.count('list="customer-options"') == 1 and '<datalist id="customer-options">' in page
    assert 'data-customer-search="/customers/search"' in page
    assert '<script src="/static/js/customer-picker.js" defer></script>' in page
    assert staff.get("/cases/new?process=t_payment").status_code == 200  # a link naming the process only
