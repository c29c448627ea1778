"""A process's rules on its cases: the server re-evaluates everything on every save."""

from __future__ import annotations

import copy
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from cases.cases_support import spec

from formflow.cases import services
from formflow.cases.models import Case
from formflow.extensions import db
from formflow.processes import services as processes

SCHEMA = {
    "type": "object",
    "required": ["amount", "reason_note"],
    "properties": {
        "amount": {"type": "number", "title": "Amount", "multipleOf": 0.01},
        "reason": {"type": "string", "title": "Reason", "enum": ["quality", "other"]},
        "reason_note": {"type": "string", "title": "Other reason"},
        "fee": {"type": "number", "title": "Fee", "multipleOf": 0.01, "readOnly": True},
    },
}
RULES = [
    {
        "id": "show-note",
        "kind": "visible",
        "field": "/reason_note",
        "when": {"==": [{"var": "data.reason"}, "other"]},
    },
    {"id": "fee", "kind": "compute", "field": "/fee", "value": {"*": [{"var": "data.amount"}, 0.06]}},
    {
        "id": "limit",
        "kind": "validate",
        "field": "/amount",
        "when": {
            "<=": [{"var": "data.amount"}, {"lookup": ["limits", {"var": "customer.tier"}, "max_single"]}]
        },
        "message": {"zh-CN": "超过该等级单笔上限", "en": "Above the tier's single limit"},
    },
]
TABLES = [
    {
        "key": "limits",
        "keyColumn": "tier",
        "columns": ["tier", "max_single"],
        "rows": [["A", 500], ["B", 100]],
    }
]
NEW = "/cases/new?process=t_rules&customer=C100"


@pytest.fixture
def ruled(app, customer):
    with app.app_context():
        document = spec("t_rules", SCHEMA, {}) | {"rules": RULES, "tables": TABLES}
        processes.import_spec(document)
        processes.publish("t_rules")
        db.session.commit()
    return "t_rules"


def _stored(app) -> list[Case]:
    with app.app_context():
        return list(db.session.execute(sa.select(Case).where(Case.process.has(key="t_rules"))).scalars())


def test_computed_value_is_stored_and_hidden_value_dropped(app, ruled, staff):
    response = staff.post_form(
        NEW,
        {
            "/amount": "60.10",
            "/reason": "quality",
            "/reason_note": "stale",
            "/fee": "999",
            "case_action": "submit",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    case_id = int(re.search(r"/cases/(\d+)$", response.headers["Location"]).group(1))
    with app.app_context():
        assert services.get(case_id).data == {
            "amount": Decimal("60.10"),
            "reason": "quality",
            "fee": Decimal("3.61"),
        }


def test_a_failing_validate_rule_shows_on_its_field_and_stores_nothing(app, ruled, staff):
    response = staff.post_form(NEW, {"/amount": "150", "/reason": "quality", "case_action": "submit"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="ff-amount-error"' in html and "超过该等级单笔上限" in html
    assert _stored(app) == []


def test_a_hidden_required_field_is_not_required_but_a_shown_one_is(app, ruled, staff):
    shown = staff.post_form(NEW, {"/amount": "10", "/reason": "other", "case_action": "submit"})
    assert shown.status_code == 422 and 'id="ff-reason_5f_note-error"' in shown.get_data(as_text=True)
    hidden = staff.post_form(NEW, {"/amount": "10", "/reason": "quality", "case_action": "submit"})
    assert hidden.status_code == 302


def test_the_form_page_hides_previews_and_embeds_the_rules(app, ruled, staff):
    html = staff.get(NEW).get_data(as_text=True)
    note = re.search(r'<div class="ff-field ff-text" id="ff-reason_5f_note-field"([^>]*)>', html)
    assert note and "hidden" in note.group(1)  # reason is not "other" yet
    assert 'data-ff-computed="1"' in html and 'data-ff-type="number"' in html


def test_the_api_runs_the_same_rules(app, ruled, login_as):
    from formflow.auth import services as auth

    make = login_as("staff")
    with app.app_context():
        plain, _token = auth.create_token(auth.find_user(make.username), "t")
        db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    body = {
        "process": "t_rules",
        "customer": "C100",
        "data": {"amount": 150, "reason": "quality"},
        "submit": True,
    }
    refused = make.raw.post("/api/v1/cases", json=body, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["pointer"] == "/data/amount"
    body["data"]["amount"] = 20
    created = make.raw.post("/api/v1/cases", json=body, headers=headers)
    assert created.status_code == 201
    with app.app_context():
        assert services.get(created.get_json()["id"]).data["fee"] == Decimal("1.20")


def test_the_case_page_names_rule_fields_by_their_title_in_the_users_language(app, customer, staff):
    with app.app_context():
        ui = {"amount": {"ui:title": {"zh-CN": "扣款金额", "en": "Deduction amount"}}}
        schema = copy.deepcopy(SCHEMA)
        schema["properties"]["amount"]["title"] = "扣款金额"  # the schema's own title is Chinese
        processes.import_spec(spec("t_titles", schema, ui) | {"rules": RULES, "tables": TABLES})
        processes.publish("t_titles")
        db.session.commit()
    posted = {"/amount": "20", "/reason": "quality", "case_action": "submit"}
    response = staff.post_form("/cases/new?process=t_titles&customer=C100", posted)
    assert response.status_code == 302, response.get_data(as_text=True)
    staff.raw.set_cookie("lang", "en")
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Deduction amount" in page and "扣款金额" not in page
