"""A process's parameter tables changed in their structure without JSON: a table added, columns
added (the existing rows get the value given), reordered, removed — and refused, naming who reads
it, when a rule or a workflow step still looks the column (or the table) up. Nothing half-saved."""

from __future__ import annotations

import html
import re

import pytest
from page_forms import changed, form_pairs
from werkzeug.datastructures import MultiDict

from formflow.processes import services

COLUMNS = "/admin/processes/deduction/tables/deduction_limits/columns"
NEW = "/admin/processes/deduction/tables/new"


@pytest.fixture
def published(publish_config):
    publish_config("deduction")


def _tables(app) -> dict:
    with app.app_context():
        latest = services.latest_version("deduction")
        return {table["key"]: table for table in latest.spec.get("tables") or []} | {"#": latest.number}


def _post(admin, url: str, status: int = 302, page: str | None = None, **values):
    page = page if page is not None else admin.get(url).get_data(as_text=True)
    answer = admin.post(url, data=MultiDict(changed(form_pairs(page, url), **values)))
    assert answer.status_code == status, answer.get_data(as_text=True)[:3000]
    return answer


def _error_at(body: str, name: str) -> str:
    found = re.search(rf'<small id="{re.escape(name)}-error" class="field-error">(.*?)</small>', body, re.S)
    assert found, body[:5000]
    return html.unescape(found.group(1))


def test_a_table_is_added_with_its_columns_and_opens_in_the_grid(app, login_as, published):
    admin = login_as("admin")
    page = _post(admin, NEW, status=200, command="add_column").get_data(as_text=True)
    columns = {"columns-0-name": "tier", "columns-0-type": "text", "columns-1-name": "fee"}
    columns |= {"columns-1-type": "money", "columns-1-title_zh": "金额", "columns-1-title_en": "Fee"}
    names = {"key": "late_fees", "name_zh": "滞纳金", "name_en": "Late fees", "key_column": "0"}
    saved = _post(admin, NEW, page=page, **names, **columns, command="save")
    assert saved.headers["Location"].endswith("/admin/processes/deduction/tables/late_fees")
    table = _tables(app)["late_fees"]
    assert table["keyColumn"] == "tier" and table["rows"] == []
    assert table["columns"][1] == {"name": "fee", "type": "money", "title": {"zh-CN": "金额", "en": "Fee"}}


def test_a_new_column_gives_the_existing_rows_its_value(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = _post(admin, COLUMNS, status=200, command="add_column").get_data(as_text=True)
    values = {"columns-4-name": "grace_days", "columns-4-type": "integer"}
    refused = _post(admin, COLUMNS, status=422, page=page, **values, command="save")
    assert "existing rows" in _error_at(refused.get_data(as_text=True), "columns-4-fill")
    assert _tables(app)["#"] == 1
    _post(admin, COLUMNS, page=page, **values, **{"columns-4-fill": "7"}, command="save")
    table = _tables(app)["deduction_limits"]
    assert [row[-1] for row in table["rows"]] == [7, 7, 7] and table["columns"][-1]["type"] == "integer"


def test_a_column_no_rule_reads_is_removed_with_its_cells(app, login_as, published):
    admin = login_as("admin")
    page = _post(admin, COLUMNS, status=200, command="remove_column:2").get_data(as_text=True)  # monthly_cap
    _post(admin, COLUMNS, page=page, command="save")
    table = _tables(app)["deduction_limits"]
    assert [c["name"] for c in table["columns"]] == ["tier", "max_single", "dual_approval_above"]
    assert table["rows"][0] == ["A", 50000, 20000]


def test_a_column_a_step_looks_up_is_not_removed_and_the_message_says_who(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = _post(admin, COLUMNS, status=200, command="remove_column:3").get_data(as_text=True)
    refused = _post(admin, COLUMNS, status=422, page=page, command="save")
    message = _error_at(refused.get_data(as_text=True), "columns")
    assert "dual_approval_above" in message and "the workflow step “Review”" in message
    renamed = _post(admin, COLUMNS, status=422, **{"columns-1-name": "single_max"}, command="save")
    assert "the rule" in _error_at(renamed.get_data(as_text=True), "columns-1-name")
    assert _tables(app)["#"] == 1


def test_columns_reordered_carry_their_cells(app, login_as, published):
    admin = login_as("admin")
    page = _post(admin, COLUMNS, status=200, command="down:1").get_data(as_text=True)
    _post(admin, COLUMNS, page=page, command="save")
    table = _tables(app)["deduction_limits"]
    assert [c["name"] for c in table["columns"]][:3] == ["tier", "monthly_cap", "max_single"]
    assert table["rows"][1][:3] == ["B", 80000, 20000]


@pytest.mark.parametrize(
    ("values", "name", "words"),
    [
        ({"key": "X"}, "key", "lowercase letter"),
        ({"columns-2-name": "max_single"}, "columns-2-name", "Two columns"),
        ({"columns-1-title_en": ""}, "columns-1-title_zh", "both languages"),
        ({"name_en": ""}, "name_zh", "both languages"),
        ({"key": "deduction_limits_v2"}, "key", "look the table up"),
    ],
)
def test_bad_input_is_refused_at_its_input(app, login_as, published, values, name, words):
    admin = login_as("admin")
    admin.get("/lang/en")
    refused = _post(admin, COLUMNS, status=422, **values, command="save")
    body = refused.get_data(as_text=True)
    assert words in _error_at(body, name) and f'aria-describedby="{name}-error"' in body
    assert _tables(app)["#"] == 1


def test_a_table_rules_read_is_not_removed_one_no_one_reads_is(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get(COLUMNS).get_data(as_text=True)
    remove = "/admin/processes/deduction/tables/deduction_limits/remove"
    refused = admin.post(remove, data=MultiDict(form_pairs(page, remove)))
    assert refused.status_code == 422
    assert "still looked up by" in _error_at(refused.get_data(as_text=True), "remove")
    _post(
        admin, NEW, key="spare", name_zh="备用", name_en="Spare", key_column="0",
        **{"columns-0-name": "code", "columns-0-type": "text"}, command="save",
    )  # fmt: skip
    url = "/admin/processes/deduction/tables/spare/columns"
    page = admin.get(url).get_data(as_text=True)
    removed = admin.post(
        "/admin/processes/deduction/tables/spare/remove",
        data=MultiDict(form_pairs(page, "/admin/processes/deduction/tables/spare/remove")),
    )
    assert removed.status_code == 302 and "spare" not in _tables(app)


def test_an_existing_column_retyped_so_its_cells_do_not_fit_says_so_at_its_type(app, login_as, published):
    admin = login_as("admin")
    admin.get("/lang/en")
    refused = _post(
        admin, COLUMNS, status=422, **{"columns-0-type": "money"}, command="save"
    )  # tiers A, B, C
    assert _error_at(refused.get_data(as_text=True), "columns-0-type")
    assert _tables(app)["#"] == 1


@pytest.mark.parametrize("values", [{"column_count": "²"}, {"key_column": "²"}, {"command": "up:²"}])
def test_odd_table_input_is_not_a_500(app, login_as, published, values):
    admin = login_as("admin")
    page = admin.get(COLUMNS).get_data(as_text=True)
    answer = admin.post(
        COLUMNS, data=MultiDict(changed(form_pairs(page, COLUMNS), **{"command": "save", **values}))
    )
    assert answer.status_code in (200, 302, 422)
