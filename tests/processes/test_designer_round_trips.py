"""What a second look at the editors found: a save that changes nothing must change nothing in
the spec, whatever shape the spec has (an order with "*", a rule the designer cannot show, a step
of 0.5, a repeating group's default rows, a step naming a nested field, a renamed action, effect
values that look like numbers), and odd input is a 4xx with its message, never a 500."""

from __future__ import annotations

import copy
import html
import re

import pytest
from page_forms import changed, form_pairs
from werkzeug.datastructures import MultiDict

from formflow.extensions import db
from formflow.processes import services


@pytest.fixture
def published(publish_config):
    publish_config("deduction")


def _spec(app) -> dict:
    with app.app_context():
        return copy.deepcopy(services.latest_version("deduction").spec)


def _draft(app, change) -> dict:
    """A draft of the deduction process with `change(spec)` applied (as JSON mode would)."""
    spec = _spec(app)
    change(spec)
    with app.app_context():
        services.new_draft_from_edit("deduction", spec)
        db.session.commit()
    return _spec(app)


def _resave(admin, url: str, status: int = 302, **values):
    pairs = changed(form_pairs(admin.get(url).get_data(as_text=True), url), **values)
    answer = admin.post(url, data=MultiDict(pairs))
    assert answer.status_code == status, answer.get_data(as_text=True)[:3000]
    return answer


def _field(name: str) -> str:
    return f"/admin/processes/deduction/fields/{name}/edit"


def _add_fields(spec: dict) -> None:
    properties = spec["form"]["schema"]["properties"]
    properties["half"] = {"type": "number", "title": "半", "multipleOf": 0.5}
    properties["hundreds"] = {"type": "integer", "title": "百", "multipleOf": 100}
    properties["rows"] = {
        "type": "array", "title": "明细", "default": [{"qty": 1}],
        "items": {"type": "object", "properties": {"qty": {"type": "integer", "title": "数量"}}},
    }  # fmt: skip
    spec["form"]["uiSchema"]["ui:order"] = ["*", "evidence"]
    when = {"and": [{"==": [{"var": "data.reason"}, "other"]}, {">": [{"var": "data.amount"}, 1]}]}
    title = {"zh-CN": "显示半", "en": "Show half"}
    rule = {"id": "show-half", "title": title, "kind": "visible", "field": "/half", "when": when}
    spec.setdefault("rules", []).append(rule)  # a condition the designer cannot show: left as it is


@pytest.mark.parametrize("field", ["reason", "half", "hundreds", "rows", "evidence", "amount"])
def test_a_field_saved_unchanged_leaves_the_spec_as_it_was(app, login_as, published, field):
    before = _draft(app, _add_fields)
    _resave(login_as("admin"), _field(field), command="save")
    assert _spec(app) == before


def test_a_field_of_a_repeating_group_names_its_rules_by_the_rows_pointer(app, login_as, published):
    _draft(app, _add_fields)
    page = login_as("admin").get(_field("rows/qty")).get_data(as_text=True)
    assert "target=/rows/*/qty" in html.unescape(page)


def test_a_field_with_its_own_condition_is_removed_with_it(app, login_as, published):
    admin = login_as("admin")
    _resave(admin, _field("description"), when_field="reason", when_value="other", command="save")
    page = admin.get("/admin/processes/deduction/form").get_data(as_text=True)
    base = re.search(r'name="base" value="([^"]*)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]*)"', page).group(1)
    removed = admin.post(
        "/admin/processes/deduction/fields/description/remove", data={"base": base, "csrf_token": token}
    )
    assert removed.status_code == 302
    spec = _spec(app)
    assert "description" not in spec["form"]["schema"]["properties"]
    assert not [rule for rule in spec["rules"] if rule.get("field") == "/description"]


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"min_length": "²"}, "min_length"),
        ({"max_length": "9" * 5000}, "max_length"),
        ({"minimum": "1e5000"}, "minimum"),
        ({"minimum": "1e-400"}, "minimum"),
        ({"default": "1e5000"}, "default"),
    ],
)
def test_odd_numbers_are_refused_at_their_input_not_a_500(app, login_as, published, values, name):
    admin = login_as("admin")
    field = "reason_note" if name in ("min_length", "max_length") else "amount"
    answer = _resave(admin, _field(field), status=422, **values, command="save")
    assert f'id="{name}-error"' in answer.get_data(as_text=True)


# --- the step editor ------------------------------------------------------------------------------


def _step(name: str) -> str:
    return f"/admin/processes/deduction/steps/{name}/edit"


def test_a_step_naming_a_nested_field_keeps_it(app, login_as, published):
    def change(spec):
        spec["form"]["schema"]["properties"]["contact"] = {
            "type": "object", "title": "联系人", "properties": {"phone": {"type": "string", "title": "电话"}},
        }  # fmt: skip
        spec["form"]["uiSchema"]["ui:order"].append("contact")
        spec["workflow"]["states"]["fix"] = {
            "kind": "form", "title": {"zh-CN": "补充", "en": "Fix"}, "fields": ["/contact/phone"],
            "actions": {"resubmit": {
                "to": "review", "roles": ["staff"], "validate": False, "comment": "optional",
                "title": {"zh-CN": "重新提交", "en": "Resubmit"},
            }},
        }  # fmt: skip
        spec["workflow"]["states"]["review"]["actions"]["return"]["to"] = "fix"

    before = _draft(app, change)
    admin = login_as("admin")
    _resave(admin, _step("fix"), command="save")
    assert _spec(app) == before
    _resave(admin, _step("fix"), **{"actions-0-name": "again"}, command="save")
    again = _spec(app)["workflow"]["states"]["fix"]["actions"]["again"]
    assert again["validate"] is False and again["comment"] == "optional"


def test_effect_values_that_look_like_numbers_stay_text_and_bad_json_is_refused(app, login_as, published):
    def change(spec):
        spec["form"]["schema"]["properties"]["year"] = {"type": "string", "title": "年份"}
        spec["form"]["uiSchema"]["ui:order"].append("year")
        spec["workflow"]["states"]["executed"]["on_enter"].append(
            {"effect": "set_field", "field": "/year", "value": "2024"}
        )

    before = _draft(app, change)
    admin = login_as("admin")
    admin.get("/lang/en")
    _resave(admin, _step("executed"), command="save")
    assert _spec(app) == before
    refused = _resave(
        admin, _step("executed"), status=422, **{"effects-0-amount": '{"var": "data.amount"'}, command="save"
    )
    assert "Not valid JSON" in html.unescape(refused.get_data(as_text=True))


@pytest.mark.parametrize(
    "values",
    [
        {"action_count": "²"},
        {"command": "remove_action:²"},
        {"effect_count": "²"},
        {"approvals_number": "9" * 5000},
    ],
)
def test_odd_step_input_is_not_a_500(app, login_as, published, values):
    url = _step("review")
    admin = login_as("admin")
    pairs = changed(form_pairs(admin.get(url).get_data(as_text=True), url), **{"command": "save", **values})
    answer = admin.post(url, data=MultiDict(pairs))
    assert answer.status_code in (200, 302, 422), answer.status_code


def test_a_kind_change_the_checks_refuse_says_why_on_the_page(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    answer = _resave(admin, _step("review"), status=422, kind="final", command="save")
    body = html.unescape(answer.get_data(as_text=True))
    assert 'data-testid="spec-errors"' in body or "field-error" in body
