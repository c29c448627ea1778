"""The fee plan editor as an admin uses it: a new plan from the form, a second save making
version 2 (charges keep the version they were made with), bad rows coming back with each
message at its input and nothing written, a table amount naming a table or column that does
not exist; finance may read the plans but not edit them; both languages."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from formflow import tables
from formflow.billing import plans
from formflow.billing.models import FeePlan, FeePlanVersion
from formflow.extensions import db

FORM = {
    "key": "quarterly_b",
    "name_zh": "季度方案",
    "name_en": "Quarterly plan",
    "short": "receivable",
    "due_days": "20",
    "items-0-id": "deposit",
    "items-0-title_zh": "押金",
    "items-0-title_en": "Deposit",
    "items-0-when": "signing",
    "items-0-amount_kind": "fixed",
    "items-0-amount": "500.00",
    "items-1-id": "quarterly",
    "items-1-title_zh": "季度管理费",
    "items-1-title_en": "Quarterly fee",
    "items-1-when": "period",
    "items-1-frequency": "quarterly",
    "items-1-prorate": "on",
    "items-1-amount_kind": "table",
    "items-1-table": "editor_fees",
    "items-1-column": "quarterly",
}


@pytest.fixture
def fee_table(app):
    with app.app_context():
        columns = [{"name": "tier"}, {"name": "quarterly", "type": "money"}]
        first = tables.create_global_table(
            "editor_fees", {"zh-CN": "季度费", "en": "Quarterly fees"}, columns, "tier"
        )
        tables.save_global_table("editor_fees", [["B", 900]], expected_number=first.number)
        db.session.commit()


def _versions(key: str) -> list[FeePlanVersion]:
    return list(
        db.session.execute(
            sa.select(FeePlanVersion).join(FeePlan).where(FeePlan.key == key).order_by(FeePlanVersion.number)
        ).scalars()
    )


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_an_admin_creates_a_plan_and_saves_a_second_version(app, login_as, fee_table):
    admin = login_as("admin")
    admin.get("/lang/en")
    assert "New fee plan" in _text(admin.get("/billing/"))
    response = admin.post_form("/billing/plans/new", FORM, token_page="/billing/plans/new")
    assert response.status_code == 302, _text(response)
    with app.app_context():
        (first,) = _versions("quarterly_b")
        assert first.definition == {
            "items": [
                {"id": "deposit", "title": {"zh-CN": "押金", "en": "Deposit"}, "when": "signing",
                 "amount": "500.00"},
                {
                    "id": "quarterly", "title": {"zh-CN": "季度管理费", "en": "Quarterly fee"},
                    "when": "period", "frequency": "quarterly", "prorate": True,
                    "amount": {"table": "editor_fees", "column": "quarterly"},
                },
            ],
            "short": "receivable",
            "due_days": 20,
        }  # fmt: skip
    page = _text(admin.get("/billing/"))
    assert "Plan quarterly_b saved as version 1." in page and "Quarterly plan" in page

    editor = _text(admin.get("/billing/plans/quarterly_b/edit"))
    assert 'value="500.00"' in editor and 'value="editor_fees"' in editor and "version 2" in editor
    second = {key: value for key, value in FORM.items() if key != "key"}
    second["items-0-amount"] = "650.00"
    second["name_en"] = "Quarterly plan (2027)"
    assert (
        admin.post_form(
            "/billing/plans/quarterly_b/edit", second, token_page="/billing/plans/quarterly_b/edit"
        ).status_code
        == 302
    )
    with app.app_context():
        first, latest = _versions("quarterly_b")
        assert first.definition["items"][0]["amount"] == "500.00"  # the first version is kept
        assert latest.number == 2 and latest.definition["items"][0]["amount"] == "650.00"
        assert plans.latest_version(latest.plan_id).id == latest.id
        assert latest.plan.name_en == "Quarterly plan (2027)"


def test_bad_rows_come_back_with_each_message_at_its_input_and_nothing_is_written(app, login_as, fee_table):
    admin = login_as("admin")
    admin.get("/lang/en")
    bad = dict(FORM)
    bad.pop("items-1-frequency")  # a periodic item without frequency
    bad["items-0-amount"] = "0"  # zero
    # the third row left empty is not an item; the fourth overlaps the second's periods
    bad.update({"items-3-id": "quarterly_again", "items-3-title_zh": "重复", "items-3-title_en": "Again",
                "items-3-when": "period", "items-3-frequency": "monthly",
                "items-3-amount": "1,00"})  # fmt: skip
    response = admin.post_form("/billing/plans/new", bad, token_page="/billing/plans/new")
    assert response.status_code == 422
    page = _text(response)
    assert "Please correct the marked fields." in page
    assert 'aria-describedby="error-items-0-amount"' in page and 'id="error-items-0-amount"' in page
    assert 'id="error-items-1-frequency"' in page and "Say how often the item is charged." in page
    assert 'id="error-items-3-amount"' in page  # "1,00" is not an amount: the message stands at row 4
    assert 'value="quarterly_again"' in page and 'value="1,00"' in page  # what was typed stays
    with app.app_context():
        assert _versions("quarterly_b") == []
        assert db.session.execute(sa.select(FeePlan).where(FeePlan.key == "quarterly_b")).first() is None


def test_overlapping_items_a_bad_key_and_an_unknown_table_are_refused(app, login_as, fee_table):
    admin = login_as("admin")
    admin.get("/lang/en")
    overlapping = dict(FORM, **{"items-0-when": "period", "items-0-frequency": "quarterly"})
    page = _text(admin.post_form("/billing/plans/new", overlapping, token_page="/billing/plans/new"))
    assert "Two items are charged for the same periods: one item per frequency." in page

    wrong_key = dict(FORM, key="Quarterly B", name_zh="")
    response = admin.post_form("/billing/plans/new", wrong_key, token_page="/billing/plans/new")
    page = _text(response)
    assert response.status_code == 422 and 'id="error-key"' in page and 'id="error-name_zh"' in page

    no_table = dict(FORM, **{"items-1-table": "no_such_table"})
    page = _text(admin.post_form("/billing/plans/new", no_table, token_page="/billing/plans/new"))
    assert "There is no global table “no_such_table”." in page and 'id="error-items-1-amount"' in page
    no_column = dict(FORM, **{"items-1-column": "yearly"})
    page = _text(admin.post_form("/billing/plans/new", no_column, token_page="/billing/plans/new"))
    assert "The table “editor_fees” has no column “yearly”." in page

    assert admin.post_form("/billing/plans/new", FORM, token_page="/billing/plans/new").status_code == 302
    taken = _text(admin.post_form("/billing/plans/new", FORM, token_page="/billing/plans/new"))
    assert "Another plan has this key." in taken
    with app.app_context():
        assert len(_versions("quarterly_b")) == 1


def test_finance_reads_plans_but_may_not_edit_them_and_the_editor_speaks_chinese(app, login_as, fee_table):
    admin = login_as("admin")
    assert admin.post_form("/billing/plans/new", FORM, token_page="/billing/plans/new").status_code == 302
    finance = login_as("finance")
    listing = _text(finance.get("/billing/"))
    assert "季度方案" in listing and "/billing/plans/quarterly_b/edit" not in listing
    assert finance.get("/billing/plans/quarterly_b/edit").status_code == 403
    assert (
        finance.post_form("/billing/plans/quarterly_b/edit", FORM, token_page="/billing/").status_code == 403
    )
    chinese = _text(login_as("admin").get("/billing/plans/quarterly_b/edit"))
    assert "编辑" in chinese and "季度" in chinese and "Save a new version" not in chinese
    assert login_as("admin").get("/billing/plans/nothing/edit").status_code == 404
