"""Parameter tables: checks with pointers, typed cells, process tables shadowing global
ones, global tables and their versions, and process versions pinning what they read."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa

from formflow import tables
from formflow.audit.models import AuditEntry
from formflow.errors import Conflict, Invalid, NotFound
from formflow.extensions import db
from formflow.processes import parameter_tables
from formflow.processes import services as processes
from formflow.processes.form_rules import apply_rules, rule_context
from formflow.processes.spec import check_spec
from formflow.tables.models import GlobalTableVersion

LIMITS = {
    "key": "deduction_limits",
    "keyColumn": "tier",
    "columns": [
        {"name": "tier", "type": "text"},
        {"name": "max_single", "type": "money"},
        {"name": "monthly_cap", "type": "money"},
        {"name": "dual_approval_above", "type": "money"},
    ],
    "rows": [["A", 50000, 200000, 20000], ["B", 20000, 80000, 10000], ["C", 5000, 20000, 2000]],
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
            "properties": {
                "amount": {"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0},
                "fee": {"type": "number", "multipleOf": 0.01},
            },
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
        },
        {
            "id": "fee",
            "kind": "compute",
            "field": "/fee",
            "value": {"lookup": ["handling_fees", {"var": "customer.tier"}, "flat_fee"]},
        },
    ],
    "tables": [LIMITS],
}

FEE_COLUMNS = [{"name": "tier", "type": "text"}, {"name": "flat_fee", "type": "money"}]
NAMES = {"zh-CN": "手续费", "en": "Handling fees"}


@pytest.fixture
def english(app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


def _spec(**changes) -> dict:
    spec = copy.deepcopy(SPEC)
    spec.update(copy.deepcopy(changes))
    return spec


def _table(**changes) -> dict:
    table = copy.deepcopy(LIMITS)
    table.update(changes)
    return table


def _fees(rows) -> GlobalTableVersion:
    """The global table `handling_fees` with `rows` (created, or a new version)."""
    try:
        latest = tables.latest_global_version(tables.get_global_table("handling_fees"))
    except NotFound:
        latest = tables.create_global_table("handling_fees", NAMES, FEE_COLUMNS, "tier")
    saved, _created = tables.save_global_table("handling_fees", rows, expected_number=latest.number)
    return saved


def _pointers(errors) -> list[str]:
    return [error["pointer"] for error in errors]


# --- check_tables ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "pointer", "words"),
    [
        (
            _table(rows=[["A", 1, 2, 3], ["B", 1, 2, 3], ["C", 1, 2, 3], ["A", 4, 5, 6]]),
            "/tables/0/rows/3/0",
            "unique",
        ),
        (_table(rows=[["A", 1, 2, 3], ["B", 1, 2, 3], ["C", 1.005, 2, 3]]), "/tables/0/rows/2/1", "amount"),
        (_table(rows=[["A", 1, 2, 3], ["B", "lots", 2, 3]]), "/tables/0/rows/1/1", "amount"),
        (_table(rows=[["A", 1, 2, 3], ["B", True, 2, 3]]), "/tables/0/rows/1/1", "amount"),
        (_table(rows=[["A", 1, 2, 3], ["B", 1, 2]]), "/tables/0/rows/1", "3 cells"),
        (_table(rows=[[1, 1, 2, 3]]), "/tables/0/rows/0/0", "text"),
        (_table(rows=[["", 1, 2, 3]]), "/tables/0/rows/0/0", "empty"),
        (_table(rows=[["A", 1, None, 3]]), "/tables/0/rows/0/2", "required"),
        (
            _table(
                columns=[{"name": "tier", "type": "text"}, {"name": "max_single", "type": "decimal"}], rows=[]
            ),
            "/tables/0/columns/1/type",
            "money, integer, text, boolean",
        ),
        (_table(keyColumn="level"), "/tables/0/keyColumn", "level"),
        (_table(columns=["tier", "tier", "x", "y"]), "/tables/0/columns/1", "already"),
        (
            _table(columns=["tier", {"name": "n", "type": "integer"}], rows=[["A", 2.5]]),
            "/tables/0/rows/0/1",
            "whole",
        ),
        (
            _table(columns=["tier", {"name": "on", "type": "boolean"}], rows=[["A", "yes"]]),
            "/tables/0/rows/0/1",
            "true or false",
        ),
    ],
)
def test_check_tables_points_at_the_cell(english, table, pointer, words):
    errors = tables.check_tables({"tables": [table]})
    assert pointer in _pointers(errors), errors
    message = next(error["message"] for error in errors if error["pointer"] == pointer)
    assert words in message


def test_a_sound_table_has_no_problems(english):
    assert tables.check_tables({"tables": [LIMITS]}) == []
    untyped = {"key": "t", "columns": ["k", "v"], "rows": [["a", 1], ["b", "x"], ["c", None], [2, True]]}
    assert tables.check_tables({"tables": [untyped]}) == []
    whole = _table(rows=[["A", 50000.0, 2.5, 0.1]])  # 50000.0 and 0.1 are amounts
    assert tables.check_tables({"tables": [whole]}) == []


def test_duplicate_table_keys_point_at_the_second(english):
    errors = tables.check_tables({"tables": [LIMITS, copy.deepcopy(LIMITS)]})
    assert _pointers(errors) == ["/tables/1/key"]
    assert "deduction_limits" in errors[0]["message"]


def test_keys_equal_as_numbers_are_duplicates_but_not_text_and_number(english):
    table = {"key": "t", "columns": ["k", "v"], "rows": [[2, "a"], [2.0, "b"], ["2", "c"]]}
    assert _pointers(tables.check_tables({"tables": [table]})) == ["/tables/0/rows/1/0"]


def test_check_spec_reports_table_problems_once(app_ctx, english):
    bad = _spec(tables=[_table(rows=[["A", 1, 2, 3], ["A", 1.234, 2, 3]])])
    errors = check_spec(bad)
    assert _pointers(errors).count("/tables/0/rows/1/0") == 1
    assert _pointers(errors).count("/tables/0/rows/1/1") == 1
    shape = _spec(tables=[_table(columns=[""], rows=[])])
    assert _pointers(check_spec(shape)).count("/tables/0/columns/0") == 1


def test_meta_schema_refuses_a_malformed_table(app_ctx, english):
    errors = check_spec(
        _spec(tables=[{"key": "Bad Key", "columns": [{"name": "a", "kind": "x"}], "rows": [{}]}])
    )
    pointers = _pointers(errors)
    assert "/tables/0/key" in pointers
    assert "/tables/0/columns/0/kind" in pointers
    assert "/tables/0/rows/0" in pointers


# --- typed cells in the grid -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("20000", "money", 20000),
        ("20,000.50", "money", 20000.5),
        (" 0.1 ", "money", 0.1),
        ("7", "integer", 7),
        ("true", "boolean", True),
        ("否", "boolean", False),
        (" B ", "text", "B"),
        ("", "text", ""),
        ("12", None, 12),
        ("false", None, False),
        ("gold", None, "gold"),
        ("", None, None),
    ],
)
def test_parse_cell_gives_typed_values(english, text, kind, value):
    parsed, problem = tables.parse_cell(text, kind)
    assert problem is None
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    ("text", "kind", "words"),
    [
        ("1.005", "money", "amount"),
        ("abc", "money", "amount"),
        ("1e400", "money", "amount"),
        ("", "money", "required"),
        ("2.5", "integer", "whole"),
        ("maybe", "boolean", "true or false"),
    ],
)
def test_parse_cell_refuses_wrong_text(english, text, kind, words):
    _value, problem = tables.parse_cell(text, kind)
    assert problem and words in problem


def test_grid_keeps_unchanged_cells_exactly_as_stored(english):
    table = _table(rows=[["A", 50000.0, 200000, 20000]])
    grid = tables.Grid.from_table(table)
    assert grid.cells == [["A", "50000.00", "200000.00", "20000.00"]]
    form = {"row_count": "1", **{f"cell-0-{i}": text for i, text in enumerate(grid.cells[0])}}
    form["cell-0-3"] = "15000"
    _grid, rows = tables.edit_grid(table, form)
    assert rows == [["A", 50000.0, 200000, 15000]]
    assert type(rows[0][1]) is float  # as written in the spec: no spurious change


def test_grid_commands_add_and_remove_rows_without_saving(english):
    form = {"row_count": "3", "command": "remove-1"}
    form |= {f"cell-{r}-{c}": f"{r}{c}" for r in range(3) for c in range(4)}
    grid, rows = tables.edit_grid(LIMITS, form)
    assert rows is None and not grid.has_errors
    assert [row[0] for row in grid.cells] == ["00", "20"]
    grid, rows = tables.edit_grid(LIMITS, {**form, "command": "add"})
    assert rows is None and len(grid.cells) == 4 and grid.cells[3] == ["", "", "", ""]


def _posted(table: dict, command: str, pasted: str) -> dict:
    grid = tables.Grid.from_table(table)
    form = {"row_count": str(len(grid.cells)), "command": command, "pasted": pasted}
    form |= {f"cell-{r}-{c}": text for r, cells in enumerate(grid.cells) for c, text in enumerate(cells)}
    return form


def test_paste_from_excel_replaces_rows_by_key_and_adds_the_others(english):
    titled = _table()
    titled["columns"][3]["title"] = {"zh-CN": "双人审批阈值", "en": "Second approver above"}
    header = "tier\tmax_single\tmonthly_cap\t双人审批阈值"
    pasted = f"{header}\r\nB\t20,000\t80,000\t5,000\r\nD\t1000\t2000\t500\r\n\r\n"
    grid, rows = tables.edit_grid(titled, _posted(titled, "paste", pasted))
    assert rows is None and not grid.has_errors  # shown again, saved by the next click
    assert [cells[0] for cells in grid.cells] == ["A", "B", "C", "D"]  # the header line left out
    assert grid.cells[1] == ["B", "20,000", "80,000", "5,000"]
    form = {
        "row_count": "4",
        **{f"cell-{r}-{c}": t for r, cells in enumerate(grid.cells) for c, t in enumerate(cells)},
    }
    _grid, saved = tables.edit_grid(titled, form)
    assert saved[1] == ["B", 20000, 80000, 5000] and saved[3] == ["D", 1000, 2000, 500]


@pytest.mark.parametrize(
    ("pasted", "words"),
    [
        ("", "Nothing to paste"),
        ("A\t1\t2\t3\t4\t5", "Line 1 of the pasted text has 6 cells; the table has 4"),
    ],
)
def test_a_paste_that_does_not_fit_is_refused_and_changes_nothing(english, pasted, words):
    grid, rows = tables.edit_grid(LIMITS, _posted(LIMITS, "paste", pasted))
    assert rows is None and any(words in error["message"] for error in grid.errors)
    assert [cells[0] for cells in grid.cells] == ["A", "B", "C"]


# --- tables_for: process tables shadow global ones ------------------------------------------


def test_tables_for_joins_global_tables_and_lets_the_process_table_win(app_ctx, english):
    _fees([["A", 10], ["B", 20], ["C", 30]])
    global_limits = tables.create_global_table(
        "deduction_limits",
        {"zh-CN": "全局上限", "en": "Global limits"},
        [{"name": "tier", "type": "text"}],
        "tier",
    )
    tables.save_global_table("deduction_limits", [["Z"]], expected_number=global_limits.number)
    found = tables.tables_for(SPEC)
    assert found["handling_fees"] == {
        "keyColumn": "tier",
        "columns": ["tier", "flat_fee"],
        "rows": [["A", 10], ["B", 20], ["C", 30]],
        "types": {"tier": "text", "flat_fee": "money"},
    }
    assert found["deduction_limits"]["rows"] == LIMITS["rows"]  # the process's own
    assert found["deduction_limits"]["columns"] == [
        "tier",
        "max_single",
        "monthly_cap",
        "dual_approval_above",
    ]
    explicit = tables.tables_for(SPEC, global_tables={"other": {"columns": ["k", "v"], "rows": [["x", 1]]}})
    assert set(explicit) == {"other", "deduction_limits"}
    assert explicit["other"]["keyColumn"] == "k"


def test_referenced_tables_sees_lookups_in_rules_and_workflow():
    assert tables.referenced_tables(SPEC) == {"deduction_limits", "handling_fees"}
    workflow = {"states": {"review": {"approvals": {"required": {"lookup": ["approvals", "x", "n"]}}}}}
    assert tables.referenced_tables({"workflow": workflow}) == {"approvals"}
    computed = {"rules": [{"when": {"lookup": [{"var": "data.table"}, "x", "y"]}}]}
    assert tables.referenced_tables(computed) is None


# --- pinning ---------------------------------------------------------------------------------


def _fee_for(version, tier: str):
    context = rule_context({"amount": 100}, customer={"code": "X", "tier": tier})
    data, outcome = apply_rules(
        version.spec, {"amount": 100}, context, tables=tables.tables_for_version(version)
    )
    assert outcome.errors == []
    return data["fee"]


def test_publishing_pins_the_global_tables_a_version_reads(app_ctx, english):
    _fees([["A", 10], ["B", 20], ["C", 30]])
    processes.import_spec(_spec())
    first = processes.publish("deduction")
    assert {key: v.number for key, v in tables.pinned_versions(first).items()} == {"handling_fees": 2}
    assert _fee_for(first, "B") == 20

    _fees([["A", 10], ["B", 25], ["C", 30]])  # a later edit of the global table
    assert _fee_for(first, "B") == 20  # the published version keeps its values
    draft = processes.import_spec(_spec(description={"zh-CN": "新", "en": "new"})).version
    assert draft.status == "draft"
    assert _fee_for(draft, "B") == 25  # a draft reads the newest

    second = processes.publish("deduction")
    assert {key: v.number for key, v in tables.pinned_versions(second).items()} == {"handling_fees": 3}
    assert _fee_for(second, "B") == 25
    db.session.refresh(first)
    assert first.status == "retired" and _fee_for(first, "B") == 20  # its cases keep v2
    pins = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == "process_version.pin_tables")
    ).scalars()
    assert [entry.after["tables"] for entry in pins] == [{"handling_fees": 2}, {"handling_fees": 3}]


def test_republishing_a_retired_version_keeps_its_pins(app_ctx, english):
    _fees([["A", 10], ["B", 20], ["C", 30]])
    processes.import_spec(_spec())
    first = processes.publish("deduction")
    _fees([["A", 10], ["B", 99], ["C", 30]])
    processes.import_spec(_spec(description={"zh-CN": "新", "en": "new"}))
    processes.publish("deduction")
    again = processes.publish("deduction", number=first.number)  # roll back
    assert again.id == first.id and _fee_for(again, "B") == 20


def test_a_process_table_is_not_pinned_and_own_tables_shadow(app_ctx, english):
    tables.create_global_table("deduction_limits", {"zh-CN": "上限", "en": "Limits"}, FEE_COLUMNS, "tier")
    _fees([["A", 1], ["B", 2], ["C", 3]])
    processes.import_spec(_spec())
    published = processes.publish("deduction")
    assert set(tables.pinned_versions(published)) == {"handling_fees"}
    assert tables.tables_for_version(published)["deduction_limits"]["rows"] == LIMITS["rows"]


def test_a_computed_table_name_pins_every_global_table(app_ctx, english):
    _fees([["A", 1]])
    tables.create_global_table("other_table", {"zh-CN": "其他", "en": "Other"}, FEE_COLUMNS, "tier")
    rule = {
        "id": "fee",
        "kind": "compute",
        "field": "/fee",
        "value": {
            "lookup": [{"if": [True, "handling_fees", "other_table"]}, {"var": "customer.tier"}, "flat_fee"]
        },
    }
    processes.import_spec(_spec(rules=[rule]))
    published = processes.publish("deduction")
    assert set(tables.pinned_versions(published)) == {"handling_fees", "other_table"}


def test_adopting_makes_a_draft_that_reads_the_newest_tables(app_ctx, english):
    _fees([["A", 10], ["B", 20], ["C", 30]])
    processes.import_spec(_spec())
    first = processes.publish("deduction")
    _fees([["A", 10], ["B", 21], ["C", 30]])
    draft = parameter_tables.adopt_global_tables("deduction")
    assert (draft.number, draft.status, draft.spec) == (2, "draft", first.spec)
    assert parameter_tables.adopt_global_tables("deduction").id == draft.id  # a draft is there already
    published = processes.publish("deduction")
    assert _fee_for(published, "B") == 21
    uses = parameter_tables.table_uses("handling_fees")
    assert [(use.version.number, use.table_number) for use in uses] == [(2, 3)]


# --- global tables: create, versions, problems -----------------------------------------------


def test_create_and_edit_a_global_table_makes_versions(app_ctx, english):
    first = tables.create_global_table("handling_fees", NAMES, FEE_COLUMNS, "tier")
    assert (first.number, first.rows, first.key_column) == (1, [], "tier")
    second, created = tables.save_global_table("handling_fees", [["A", 10], ["B", 20]], expected_number=1)
    assert created and second.number == 2
    same, created = tables.save_global_table("handling_fees", [["A", 10], ["B", 20]], expected_number=2)
    assert not created and same.id == second.id
    third, _created = tables.save_global_table("handling_fees", [["A", 10], ["B", 15]], expected_number=2)
    assert [v.number for v in tables.global_table_history("handling_fees")] == [3, 2, 1]
    assert tables.global_table_version("handling_fees", 2).rows == [["A", 10], ["B", 20]]
    assert third.sha256 != second.sha256
    entry = (
        db.session.execute(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "global_table_version.create")
            .order_by(AuditEntry.seq.desc())
        )
        .scalars()
        .first()
    )
    assert entry.after["changes"] == ["B · flat_fee: 20.00 → 15.00"]
    assert entry.before["number"] == 2
    rows, _next = tables.global_tables_page()
    assert [(row.table.key, row.latest_number, row.rows) for row in rows] == [("handling_fees", 3, 2)]


def test_a_stale_edit_is_a_conflict_and_a_bad_cell_saves_nothing(app_ctx, english):
    tables.create_global_table("handling_fees", NAMES, FEE_COLUMNS, "tier")
    tables.save_global_table("handling_fees", [["A", 10]], expected_number=1)
    with pytest.raises(Conflict):
        tables.save_global_table("handling_fees", [["A", 11]], expected_number=1)
    with pytest.raises(Invalid) as caught:
        tables.save_global_table("handling_fees", [["A", 10], ["A", 1.001]], expected_number=2)
    assert _pointers(caught.value.errors) == ["/rows/1/0", "/rows/1/1"]
    assert [v.number for v in tables.global_table_history("handling_fees")] == [2, 1]


@pytest.mark.parametrize(
    ("key", "names", "columns", "key_column", "pointer"),
    [
        ("Bad Key", NAMES, FEE_COLUMNS, "tier", "/key"),
        ("fees", {"zh-CN": " ", "en": "Fees"}, FEE_COLUMNS, "tier", "/name/zh-CN"),
        ("fees", NAMES, [{"name": "tier", "type": "decimal"}], "tier", "/columns/0/type"),
        (
            "fees",
            NAMES,
            [{"name": "tier", "type": "text"}, {"name": "tier", "type": "text"}],
            "tier",
            "/columns/1/name",
        ),
        ("fees", NAMES, FEE_COLUMNS, "level", "/keyColumn"),
        ("fees", NAMES, [], "tier", "/columns"),
    ],
)
def test_a_bad_table_definition_is_refused_with_a_pointer(
    app_ctx, english, key, names, columns, key_column, pointer
):
    with pytest.raises(Invalid) as caught:
        tables.create_global_table(key, names, columns, key_column)
    assert pointer in _pointers(caught.value.errors)


def test_a_second_table_with_the_same_key_is_refused(app_ctx, english):
    tables.create_global_table("handling_fees", NAMES, FEE_COLUMNS, "tier")
    with pytest.raises(Invalid) as caught:
        tables.create_global_table("handling_fees", NAMES, FEE_COLUMNS, "tier")
    assert _pointers(caught.value.errors) == ["/key"]
