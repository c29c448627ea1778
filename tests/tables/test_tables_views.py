"""The parameter table pages: a process table's grid (edit a cell -> draft -> what-if ->
publish), problems inline per cell, rows added and removed without JS, and the global tables
admin (list, create, edit as new versions, a process picking up the newest version)."""

from __future__ import annotations

import copy
from html.parser import HTMLParser

import pytest

from formflow import tables
from formflow.auth import services as users
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.processes import services as processes

LIMITS = {
    "key": "deduction_limits",
    "name": {"zh-CN": "扣款上限", "en": "Deduction limits"},
    "keyColumn": "tier",
    "columns": [
        {"name": "tier", "type": "text"},
        {"name": "max_single", "type": "money"},
        {"name": "dual_approval_above", "type": "money"},
        {"name": "needs_evidence", "type": "boolean"},
    ],
    "rows": [["A", 50000, 20000, False], ["B", 20000, 10000, True], ["C", 5000, 2000, True]],
}

SPEC = {
    "formflow": 1,
    "key": "deduction",
    "category": "deduction",
    "name": {"zh-CN": "客户扣款", "en": "Customer deduction"},
    "form": {
        "schema": {
            "type": "object",
            "required": ["amount"],
            "properties": {"amount": {"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0}},
        }
    },
    "rules": [
        {
            "id": "amount-within-tier-limit",
            "kind": "validate",
            "field": "/amount",
            "when": {
                "<=": [
                    {"var": "data.amount"},
                    {"lookup": ["deduction_limits", {"var": "customer.tier"}, "max_single"]},
                ]
            },
            "message": {"zh-CN": "超过该等级单笔扣款上限", "en": "Above the tier's single-deduction limit"},
        }
    ],
    "tables": [LIMITS],
}

GRID = "/admin/processes/deduction/tables/deduction_limits"


class _Fields(HTMLParser):
    """The values a browser would post: inputs (not buttons) and selected options."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") not in ("radio", "checkbox", "submit"):
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select = attrs.get("name")
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _fields(body: str) -> dict[str, str]:
    parser = _Fields()
    parser.feed(body)
    return parser.values


@pytest.fixture
def published(app):
    """The deduction process published, three customers, two submitted cases."""
    with app.app_context():
        staff = users.create_user("grid-staff", "correct-horse-9", ["staff"])
        processes.import_spec(SPEC)
        processes.publish("deduction")
        for code, tier, amount in (("B001", "B", 8000), ("B002", "B", 15000), ("A001", "A", 9000)):
            customers.create(code, f"Customer {code}", tier)
            cases.start("deduction", code, {"amount": amount}, submit=True, actor=staff)
        db.session.commit()


@pytest.fixture
def admin(login_as):
    client = login_as("admin")
    client.get("/lang/en")
    return client


def _rows(app, number: int) -> list:
    with app.app_context():
        return processes.version("deduction", number).spec["tables"][0]["rows"]


def _numbers(app) -> list[tuple[int, str]]:
    with app.app_context():
        return [(row.version.number, row.version.status) for row in processes.history("deduction")]


def test_tuning_a_threshold_is_grid_cell_whatif_publish(app, admin, published):
    page = admin.get("/admin/processes/deduction").get_data(as_text=True)
    assert GRID in page  # "open the grid"
    body = admin.get(GRID).get_data(as_text=True)
    posted = _fields(body)
    assert posted["cell-1-1"] == "20000.00" and posted["cell-1-3"] == "true" and posted["row_count"] == "3"
    posted["cell-1-1"] = "10000"  # tier B's single-deduction limit
    response = admin.post(GRID, data={**posted, "command": "save"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/processes/deduction/whatif?version=2")
    assert _numbers(app) == [(2, "draft"), (1, "published")]
    assert _rows(app, 2)[1] == ["B", 10000, 10000, True] and _rows(app, 1)[1][1] == 20000

    whatif = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 past case would now be invalid" in whatif  # B002: 15000 > 10000
    assert "Above the tier&#39;s single-deduction limit" in whatif
    publish = _fields(whatif[whatif.index('data-testid="whatif-publish"') :])
    assert publish["number"] == "2"
    response = admin.post("/admin/processes/deduction/publish", data=publish)
    assert response.status_code == 302
    assert _numbers(app) == [(2, "published"), (1, "retired")]


def test_a_bad_cell_is_shown_inline_with_its_input_and_nothing_is_saved(app, admin, published):
    posted = _fields(admin.get(GRID).get_data(as_text=True))
    posted["cell-2-2"] = "2000.555"
    posted["cell-2-0"] = "A"  # a second A: keys are unique
    response = admin.post(GRID, data={**posted, "command": "save"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="cell-2-2-error"' in body and "Not an amount" in body
    assert 'value="2000.555"' in body  # what was typed stays
    assert 'id="cell-2-0-error"' in body and "already in row 1" in body
    assert _numbers(app) == [(1, "published")]


def test_rows_are_added_and_removed_by_plain_buttons(app, admin, published):
    posted = _fields(admin.get(GRID).get_data(as_text=True))
    added = admin.post(GRID, data={**posted, "command": "add"})
    assert added.status_code == 200
    posted = _fields(added.get_data(as_text=True))
    assert posted["row_count"] == "4" and posted["cell-3-0"] == ""
    posted |= {"cell-3-0": "D", "cell-3-1": "1000", "cell-3-2": "500", "cell-3-3": "false"}
    removed = admin.post(GRID, data={**posted, "command": "remove-0"})
    posted = _fields(removed.get_data(as_text=True))
    assert posted["row_count"] == "3" and posted["cell-0-0"] == "B" and posted["cell-2-0"] == "D"
    assert _numbers(app) == [(1, "published")]  # nothing saved until Save
    saved = admin.post(GRID, data={**posted, "command": "save"})
    assert saved.status_code == 302
    assert _rows(app, 2) == [["B", 20000, 10000, True], ["C", 5000, 2000, True], ["D", 1000, 500, False]]


def test_a_grid_saved_on_a_stale_version_is_a_conflict(app, admin, published):
    posted = _fields(admin.get(GRID).get_data(as_text=True))
    with app.app_context():
        processes.import_spec({**copy.deepcopy(SPEC), "description": {"zh-CN": "改", "en": "changed"}})
        db.session.commit()
    posted["cell-0-1"] = "40000"
    response = admin.post(GRID, data={**posted, "command": "save"})
    assert response.status_code == 409
    assert 'value="40000"' in response.get_data(as_text=True)
    assert _rows(app, 2) == LIMITS["rows"]


def test_saving_the_same_cells_changes_nothing(app, admin, published):
    posted = _fields(admin.get(GRID).get_data(as_text=True))
    response = admin.post(GRID, data={**posted, "command": "save"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/processes/deduction")
    assert _numbers(app) == [(1, "published")]


def test_posting_without_csrf_is_refused(app, admin, published):
    posted = _fields(admin.get(GRID).get_data(as_text=True))
    posted.pop("csrf_token")
    assert admin.post(GRID, data={**posted, "command": "save"}).status_code == 400


def test_the_whatif_page_without_a_draft(app, login_as, published):
    auditor = login_as("auditor")
    auditor.get("/lang/en")
    body = auditor.get("/admin/processes/deduction/whatif").get_data(as_text=True)
    assert "There is no draft to compare" in body
    page = auditor.get("/admin/processes/deduction").get_data(as_text=True)
    assert GRID not in page  # auditors read; only admins edit


# --- global tables -----------------------------------------------------------------------------


def _create(admin, **fields):
    form = {
        "key": "handling_fees",
        "name_zh": "手续费",
        "name_en": "Handling <fees>",
        "column_count": "2",
        "column-0-name": "tier",
        "column-0-type": "text",
        "column-1-name": "flat_fee",
        "column-1-type": "money",
        "key_column": "0",
        "command": "create",
    }
    return admin.post_form("/admin/tables/new", {**form, **fields})


def test_create_a_global_table_then_edit_its_rows_as_versions(app, admin):
    added = _create(admin, command="add-column")
    assert added.status_code == 200 and 'name="column-2-name"' in added.get_data(as_text=True)
    response = _create(admin)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/tables/handling_fees/edit"
    )
    listing = admin.get("/admin/tables/").get_data(as_text=True)
    assert "handling_fees" in listing and "Handling &lt;fees&gt;" in listing  # escaped

    edit = "/admin/tables/handling_fees/edit"
    posted = _fields(
        admin.post(edit, data={**_fields(admin.get(edit).get_data(as_text=True)), "command": "add"}).get_data(
            as_text=True
        )
    )
    posted |= {"cell-0-0": "B", "cell-0-1": "20.5"}
    saved = admin.post(edit, data={**posted, "command": "save"})
    assert saved.status_code == 302
    page = admin.get("/admin/tables/handling_fees").get_data(as_text=True)
    assert "20.50" in page and "v2" in page
    with app.app_context():
        assert [v.number for v in tables.global_table_history("handling_fees")] == [2, 1]
        assert tables.latest_global_version(tables.get_global_table("handling_fees")).rows == [["B", 20.5]]

    stale = admin.post(edit, data={**posted, "base": "1", "cell-0-1": "21", "command": "save"})
    assert stale.status_code == 409
    bad = admin.post(
        edit, data={**_fields(admin.get(edit).get_data(as_text=True)), "cell-0-1": "x", "command": "save"}
    )
    assert bad.status_code == 422 and 'id="cell-0-1-error"' in bad.get_data(as_text=True)
    assert admin.get("/admin/tables/handling_fees/versions/1").status_code == 200


def test_a_bad_definition_shows_its_problems_and_creates_nothing(app, admin):
    response = _create(admin, key="Bad Key", **{"column-1-name": "tier"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "lowercase letter first" in body and "already a column" in body
    assert 'value="Bad Key"' in body
    with app.app_context():
        assert tables.global_tables_page()[0] == []


def test_auditors_read_global_tables_but_do_not_edit(app, admin, login_as):
    _create(admin)
    auditor = login_as("auditor")
    page = auditor.get("/admin/tables/handling_fees")
    assert page.status_code == 200 and "/admin/tables/handling_fees/edit" not in page.get_data(as_text=True)
    assert auditor.get("/admin/tables/handling_fees/edit").status_code == 403


def test_a_new_global_version_reaches_a_process_through_a_new_draft(app, admin, published):
    fee_spec = copy.deepcopy(SPEC)
    fee_spec["form"]["schema"]["properties"]["fee"] = {"type": "number", "multipleOf": 0.01}
    fee_spec["rules"].append(
        {
            "id": "fee",
            "kind": "compute",
            "field": "/fee",
            "value": {"lookup": ["handling_fees", {"var": "customer.tier"}, "flat_fee"]},
        }
    )
    _create(admin)
    with app.app_context():
        tables.save_global_table("handling_fees", [["A", 10], ["B", 20]], expected_number=1)
        processes.import_spec(fee_spec)
        processes.publish("deduction")
        staff = users.find_user("grid-staff")
        cases.start("deduction", "B001", {"amount": 100}, submit=True, actor=staff)
        db.session.commit()
    edit = "/admin/tables/handling_fees/edit"
    posted = _fields(admin.get(edit).get_data(as_text=True))
    admin.post(edit, data={**posted, "cell-1-1": "25", "command": "save"})
    page = admin.get("/admin/tables/handling_fees").get_data(as_text=True)
    assert "Use v3: new draft and what-if" in page  # deduction v2 still reads v2
    adopt = _fields(page[page.index("/admin/tables/handling_fees/adopt") :])
    response = admin.post("/admin/tables/handling_fees/adopt", data=adopt)
    assert response.headers["Location"].endswith("/admin/processes/deduction/whatif?version=3")
    whatif = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 computed values would change" in whatif  # B001, B002 and the new B001 case
    assert "20.00 → 25.00" in whatif
    publish = _fields(whatif[whatif.index('data-testid="whatif-publish"') :])
    assert admin.post("/admin/processes/deduction/publish", data=publish).status_code == 302
    with app.app_context():
        pinned = tables.pinned_versions(processes.published_version("deduction"))
        assert pinned["handling_fees"].number == 3


def test_rows_pasted_from_excel_into_the_grid_then_saved(app, admin, published):
    body = admin.get(GRID).get_data(as_text=True)
    assert 'name="pasted"' in body and "Paste rows from Excel" in body
    posted = _fields(body)
    shown = admin.post(
        GRID, data={**posted, "command": "paste", "pasted": "B\t12,000\t80000\ttrue\nD\t100\t200\tfalse\n"}
    )
    assert shown.status_code == 200
    again = _fields(shown.get_data(as_text=True))
    assert again["row_count"] == "4" and again["cell-1-1"] == "12,000" and again["cell-3-0"] == "D"
    saved = admin.post(GRID, data={**again, "command": "save"})
    assert saved.status_code == 302
    assert _rows(app, 2)[1] == ["B", 12000, 80000, True] and _rows(app, 2)[3][0] == "D"
