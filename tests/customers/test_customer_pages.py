"""The customer pages as people use them: the list with its filters and export links, creating
and editing a customer (each problem next to its field, nothing stored), the customer page with
balances, recent entries, cases, notices, contacts and status history, its status and blacklist
forms, the tier list, and the import's preview and confirmation — in zh-CN and en."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from cases.cases_support import new_customer

from formflow.customers import services as customers
from formflow.customers import statuses
from formflow.customers.models import Customer, Tier
from formflow.extensions import db
from formflow.ledger import services as ledger


def _customer(app, code: str) -> Customer:
    """The customer as stored now (read in a context of its own: a test's requests must not
    share an app context, or they would share `g` and its CSRF token)."""
    with app.app_context():
        customer = db.session.execute(sa.select(Customer).where(Customer.code == code)).scalar_one()
        customer.contact_list()
        db.session.expunge(customer)
        return customer


def _exists(app, code: str) -> bool:
    with app.app_context():
        return db.session.execute(sa.select(Customer.id).where(Customer.code == code)).first() is not None


def test_the_list_filters_by_tier_and_status_and_offers_the_export(app, login_as):
    with app.app_context():
        new_customer("PG01", "甲公司", "A")
        statuses.set_status(new_customer("PG02", "乙公司", "B"), "warned", reason="x")
        db.session.commit()
    staff = login_as("staff")
    page = staff.get("/customers/?status=warned").get_data(as_text=True)
    assert "PG02" in page and "PG01" not in page
    assert "/customers/export.csv?status=warned" in page and "/customers/export.xlsx?status=warned" in page
    assert "已警告" in page or "Warned" in page
    by_tier = staff.get("/customers/?tier=A").get_data(as_text=True)
    assert "PG01" in by_tier and "PG02" not in by_tier


def test_a_new_customer_with_problems_comes_back_with_each_next_to_its_field(app, login_as):
    staff = login_as("staff")
    staff.get("/lang/en")
    form = {
        "code": "PG 9",
        "name": "",
        "tier": "Z",
        "status": "active",
        "contacts-0-person": "王五",
        "contacts-0-phone": "call me",
        "contacts-0-email": "wang@",
        "contacts-0-address": "",
    }
    page = staff.post_form("/customers/new", form, token_page="/customers/new")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    for pointer in ("code", "name", "tier", "contacts-0-phone", "contacts-0-email"):
        assert f'id="error-{pointer}"' in text, pointer
    assert 'value="王五"' in text  # what was typed stays
    assert not _exists(app, "PG 9")
    form |= {
        "code": "PG09",
        "name": "丙公司",
        "tier": "C",
        "contacts-0-phone": "+86 21 6123-4567",
        "contacts-0-email": "wang@example.cn",
    }
    created = staff.post_form("/customers/new", form, token_page="/customers/new")
    assert created.status_code == 302 and created.headers["Location"].endswith("/customers/PG09")
    shown = staff.get("/customers/PG09").get_data(as_text=True)
    assert "丙公司" in shown and "王五" in shown and "wang@example.cn" in shown and "Status history" in shown


def test_editing_changes_name_tier_and_contacts_and_is_audited(app, login_as):
    with app.app_context():
        new_customer("PG10", "旧名", "A")
    staff = login_as("staff")
    form = staff.get("/customers/PG10/edit").get_data(as_text=True)
    assert 'name="contacts-0-person"' in form  # a spare row for the first contact
    saved = staff.post_form(
        "/customers/PG10/edit",
        {"name": "新名", "tier": "B", "contacts-0-person": "李四", "contacts-0-phone": "13800000000"},
        token_page="/customers/PG10/edit",
    )
    assert saved.status_code == 302
    customer = _customer(app, "PG10")
    assert (customer.name, customer.tier) == ("新名", "B")
    assert customer.contact_list() == [{"person": "李四", "phone": "13800000000", "email": "", "address": ""}]
    emptied = staff.post_form(
        "/customers/PG10/edit",
        {"name": "新名", "tier": "B", "contacts-0-person": ""},
        token_page="/customers/PG10/edit",
    )
    assert emptied.status_code == 302 and _customer(app, "PG10").contacts == []


def test_the_customer_page_shows_money_cases_and_history_and_changes_status(app, login_as):
    with app.app_context():
        customer = new_customer("PG20", "丁公司", "B")
        ledger.post_for_customer(customer, "top_up", Decimal("1234.50"), key="pg20-top-up", memo="首次预存")
        db.session.commit()
    staff = login_as("staff")
    page = staff.get("/customers/PG20").get_data(as_text=True)
    assert "1,234.50" in page and "首次预存" in page  # the balance and the recent entry
    assert 'data-testid="status-history"' in page and 'data-testid="customer-cases"' not in page
    no_reason = staff.post_form(
        "/customers/PG20/status", {"status": "warned", "reason": ""}, token_page="/customers/PG20"
    )
    assert no_reason.status_code == 422 and _customer(app, "PG20").status == "active"
    changed = staff.post_form(
        "/customers/PG20/status", {"status": "warned", "reason": "逾期两次"}, token_page="/customers/PG20"
    )
    assert changed.status_code == 302 and _customer(app, "PG20").status == "warned"
    assert "逾期两次" in staff.get("/customers/PG20").get_data(as_text=True)
    sneaky = staff.post_form(
        "/customers/PG20/status", {"status": "blacklisted", "reason": "x"}, token_page="/customers/PG20"
    )
    assert sneaky.status_code == 422 and _customer(app, "PG20").status == "warned"


def test_risk_blacklists_and_lifts_and_staff_may_not(app, login_as):
    with app.app_context():
        new_customer("PG30", "戊公司", "C")
    staff = login_as("staff")
    assert (
        staff.post_form(
            "/customers/PG30/blacklist", {"reason": "x"}, token_page="/customers/PG30"
        ).status_code
        == 403
    )
    risk = login_as("risk")
    added = risk.post_form(
        "/customers/PG30/blacklist", {"reason": "恶意拖欠", "command": "add"}, token_page="/customers/PG30"
    )
    assert added.status_code == 302 and _customer(app, "PG30").status == "blacklisted"
    page = risk.get("/customers/PG30").get_data(as_text=True)
    assert 'data-testid="blacklisted"' in page and "恶意拖欠" in page
    twice = risk.post_form(
        "/customers/PG30/blacklist", {"reason": "again", "command": "add"}, token_page="/customers/PG30"
    )
    assert twice.status_code == 409
    lifted = risk.post_form(
        "/customers/PG30/blacklist",
        {"reason": "已结清", "command": "lift", "status": "active"},
        token_page="/customers/PG30",
    )
    assert lifted.status_code == 302 and _customer(app, "PG30").status == "active"


def test_admins_keep_the_tier_list_and_a_tier_in_use_stays(app, login_as):
    with app.app_context():
        new_customer("PG40", "己公司", "C")
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get("/customers/tiers").get_data(as_text=True)
    assert 'value="A"' in page and 'value="C"' in page
    rows = {
        "code": ["A", "B", "VIP"],
        "name_zh": ["A 级", "B 级", "贵宾"],
        "name_en": ["Tier A", "Tier B", "VIP"],
    }
    refused = admin.post_form("/customers/tiers", rows, token_page="/customers/tiers")
    assert (
        refused.status_code == 422
        and "Tier C cannot be removed: 1 customers have it." in refused.get_data(as_text=True)
    )
    rows = {
        key: [*values, value]
        for (key, values), value in zip(rows.items(), ["C", "C 级", "Tier C"], strict=True)
    }
    saved = admin.post_form("/customers/tiers", rows, token_page="/customers/tiers")
    assert saved.status_code == 302
    with app.app_context():
        order = db.session.execute(sa.select(Tier.code).order_by(Tier.position)).scalars()
        assert list(order) == ["A", "B", "VIP", "C"]
        customers.create("PG41", "贵宾客户", "VIP")  # the new tier is a tier now


def test_the_import_previews_then_imports_only_on_confirmation(app, login_as):
    staff = login_as("staff")
    content = "客户编码,客户名称,等级\nPG50,导入一,A\nPG51,导入二,Q\n".encode("gbk")
    preview = staff.post_form(
        "/customers/import",
        {"file": (io.BytesIO(content), "银行导出.csv")},
        token_page="/customers/import",
        content_type="multipart/form-data",
    )
    text = preview.get_data(as_text=True)
    assert preview.status_code == 422 and "GBK" in text and "PG51" in text and 'value="valid"' in text
    assert 'value="all"' not in text  # all-or-nothing cannot go ahead with a bad row
    assert not _exists(app, "PG50")
    payload = text.split('name="payload" value="')[1].split('"')[0]
    done = staff.post_form(
        "/customers/import",
        {"payload": payload, "filename": "银行导出.csv", "command": "valid"},
        token_page="/customers/import",
    )
    assert done.status_code == 302
    assert _customer(app, "PG50").tier == "A"
    assert not _exists(app, "PG51")


@pytest.mark.parametrize("code", ["new", "tiers", "import"])
def test_codes_that_are_pages_are_refused(app_ctx, code):
    with pytest.raises(Exception) as refused:
        customers.create(code, "x", "A")
    assert refused.value.errors[0]["pointer"] == "/code"


def test_odd_list_arguments_are_no_500(app, login_as):
    staff = login_as("staff")
    page = staff.get("/customers/?format=x&_scheme=javascript&status=nonsense")
    assert page.status_code == 200 and "javascript:" not in page.get_data(as_text=True)
    assert staff.get("/customers/export.pdf").status_code == 422


def test_a_tier_code_from_before_the_list_can_be_kept(app, login_as):
    with app.app_context():
        db.session.add(Tier(code="金牌", name_zh="金牌", name_en="Gold", position=9))
        db.session.commit()
    admin = login_as("admin")
    rows = {
        "code": ["A", "B", "C", "金牌"],
        "name_zh": ["A", "B", "C", "金牌"],
        "name_en": ["A", "B", "C", "Gold"],
    }
    assert admin.post_form("/customers/tiers", rows, token_page="/customers/tiers").status_code == 302
    rows = {
        key: [*values, value]
        for (key, values), value in zip(rows.items(), ["白银", "白银", "Silver"], strict=True)
    }
    assert admin.post_form("/customers/tiers", rows, token_page="/customers/tiers").status_code == 422


def test_a_large_file_comes_back_from_its_preview(app, login_as):
    """The preview carries the file in a form field: a file whose field is above Werkzeug's
    500 kB default for form memory still reaches the confirmation (MAX_FORM_MEMORY_SIZE follows
    MAX_CONTENT_LENGTH) — here refused for its one bad row, with nothing written."""
    import base64

    rows = "".join(f"LG{n:05d},大文件客户 {n},A\n" for n in range(16_000))
    content = ("code,name,tier\n" + rows + "LGBAD,坏行,Z\n").encode()
    staff = login_as("staff")
    payload = base64.b64encode(content).decode()
    assert len(payload) > 600_000
    done = staff.post_form("/customers/import", {"payload": payload, "filename": "big.csv", "command": "all"},
                           token_page="/customers/import")  # fmt: skip
    assert done.status_code == 422 and "Z" in done.get_data(as_text=True)
    assert not _exists(app, "LG00001")
