"""The condition builder: rows <-> JSONLogic, what the built rules answer (on the server and
in the browser's evaluator), and the admin pages that add, edit and delete a process's rules
without writing JSON."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from formflow import rules
from formflow.extensions import db
from formflow.processes import rule_builder
from formflow.rules import builder
from formflow.rules.builder import Conditions

SPEC = {
    "formflow": 1,
    "key": "builder_deduction",
    "category": "deduction",
    "name": {"zh-CN": "构建器扣款", "en": "Builder deduction"},
    "form": {
        "schema": {
            "type": "object",
            "properties": {
                "amount": {"type": "number", "multipleOf": 0.01, "title": "Amount"},
                "count": {"type": "integer", "title": "Count"},
                "reason": {"type": "string", "enum": ["overdue", "other"], "title": "Reason"},
                "reason_note": {"type": "string", "title": "Reason note"},
                "tags": {
                    "type": "array",
                    "items": {"type": "string", "enum": ["vip", "new"]},
                    "title": "Tags",
                },
                "urgent": {"type": "boolean", "title": "Urgent"},
                "instalments": {
                    "type": "array",
                    "title": "Instalments",
                    "items": {
                        "type": "object",
                        "properties": {
                            "method": {"type": "string", "enum": ["cash", "bank"], "title": "Method"},
                            "bank_account": {"type": "string", "title": "Bank account"},
                        },
                    },
                },
            },
        },
        "uiSchema": {
            "reason": {"ui:enumNames": [{"zh-CN": "逾期", "en": "Overdue"}, {"zh-CN": "其他", "en": "Other"}]}
        },
    },
    "rules": [
        {
            "id": "fee-note",
            "kind": "visible",
            "field": "/reason_note",
            "when": {"if": [{"var": "data.urgent"}, True, False]},
        },
    ],
    "tables": [
        {
            "key": "deduction_limits",
            "keyColumn": "tier",
            "columns": ["tier", "max_single", "dual_approval_above"],
            "rows": [["A", 50000, 20000], ["B", 20000, 10000], ["C", 5000, 2000]],
        }
    ],
}

ROUND_TRIPS = [
    (
        [{"field": "data.reason", "op": "eq", "value": "other"}],
        "all",
        {"==": [{"var": "data.reason"}, "other"]},
    ),
    (
        [{"field": "data.reason", "op": "ne", "value": "other"}],
        "all",
        {"!=": [{"var": "data.reason"}, "other"]},
    ),
    ([{"field": "data.amount", "op": "lt", "value": 100}], "all", {"<": [{"var": "data.amount"}, 100]}),
    ([{"field": "data.amount", "op": "le", "value": 99.5}], "all", {"<=": [{"var": "data.amount"}, 99.5]}),
    ([{"field": "data.amount", "op": "gt", "value": 0}], "all", {">": [{"var": "data.amount"}, 0]}),
    ([{"field": "data.count", "op": "ge", "value": 2}], "all", {">=": [{"var": "data.count"}, 2]}),
    (
        [{"field": "data.reason_note", "op": "empty"}],
        "all",
        {"in": [{"var": "data.reason_note"}, [None, ""]]},
    ),
    (
        [{"field": "data.reason_note", "op": "not_empty"}],
        "all",
        {"!": [{"in": [{"var": "data.reason_note"}, [None, ""]]}]},
    ),
    ([{"field": "data.tags", "op": "empty"}], "all", {"!": [{"var": "data.tags"}]}),
    ([{"field": "data.tags", "op": "not_empty"}], "all", {"!!": [{"var": "data.tags"}]}),
    (
        [{"field": "data.reason", "op": "in", "value": ["overdue", "other"]}],
        "all",
        {"in": [{"var": "data.reason"}, ["overdue", "other"]]},
    ),
    (
        [{"field": "data.tags", "op": "contains", "value": "vip"}],
        "all",
        {"in": ["vip", {"var": "data.tags"}]},
    ),
    (
        [
            {
                "field": "data.amount",
                "op": "le_lookup",
                "table": "deduction_limits",
                "column": "max_single",
                "key": "customer.tier",
            }
        ],
        "all",
        {
            "<=": [
                {"var": "data.amount"},
                {"lookup": ["deduction_limits", {"var": "customer.tier"}, "max_single"]},
            ]
        },
    ),
    (
        [
            {
                "field": "data.amount",
                "op": "ge_lookup",
                "table": "deduction_limits",
                "column": "dual_approval_above",
                "key": "customer.tier",
            }
        ],
        "all",
        {
            ">=": [
                {"var": "data.amount"},
                {"lookup": ["deduction_limits", {"var": "customer.tier"}, "dual_approval_above"]},
            ]
        },
    ),
    (
        [
            {"field": "data.reason", "op": "eq", "value": "other"},
            {"field": "data.urgent", "op": "eq", "value": True},
        ],
        "all",
        {"and": [{"==": [{"var": "data.reason"}, "other"]}, {"==": [{"var": "data.urgent"}, True]}]},
    ),
    (
        [
            {"field": "customer.tier", "op": "eq", "value": "A"},
            {"field": "data.amount", "op": "lt", "value": 100},
        ],
        "any",
        {"or": [{"==": [{"var": "customer.tier"}, "A"]}, {"<": [{"var": "data.amount"}, 100]}]},
    ),
    ([{"field": "row.method", "op": "eq", "value": "bank"}], "all", {"==": [{"var": "row.method"}, "bank"]}),
]


@pytest.mark.parametrize(
    ("rows", "combinator", "expected"), ROUND_TRIPS, ids=[json.dumps(r[2])[:50] for r in ROUND_TRIPS]
)
def test_rows_become_jsonlogic_and_come_back(rows, combinator, expected):
    rule = builder.rule_from_rows(rows, combinator, list_fields=["data.tags"])
    assert rule == expected
    assert builder.rows_from_rule(rule) == Conditions(rows, combinator)
    assert builder.rule_from_rows(*builder.rows_from_rule(rule), list_fields=["data.tags"]) == rule


@pytest.mark.parametrize(
    "rule",
    [
        {"if": [{"var": "data.urgent"}, True, False]},
        {"and": [{"==": [{"var": "data.a"}, 1]}, {"or": [{"==": [{"var": "data.b"}, 2]}]}]},
        {"==": [{"var": ["data.a", "fallback"]}, 1]},
        {"==": [{"var": "data.a"}, None]},
        {"<": [0, {"var": "data.a"}, 10]},
        {"==": [1, {"var": "data.a"}]},
        {"==": [{"var": "data.a"}, {"var": "data.b"}]},
        {"<": [{"var": "data.a"}, {"lookup": ["t", {"var": "customer.tier"}, "c"]}]},
        {"var": "data.urgent"},
        {"and": []},
        True,
        "text",
    ],
)
def test_more_than_rows_can_say_opens_the_json_editor(rule):
    assert builder.rows_from_rule(rule) is None


@pytest.mark.parametrize(
    ("rows", "pointer"),
    [
        ([], "/rows"),
        ([{"field": "", "op": "eq", "value": 1}], "/rows/0/field"),
        ([{"field": "data.a", "op": "nope", "value": 1}], "/rows/0/op"),
        ([{"field": "data.a", "op": "eq", "value": 1}, {"field": "data.b", "op": "eq"}], "/rows/1/value"),
        ([{"field": "data.a", "op": "in", "value": []}], "/rows/0/value"),
        ([{"field": "data.a", "op": "le_lookup", "table": "t", "key": "customer.tier"}], "/rows/0/column"),
    ],
)
def test_incomplete_rows_are_refused_with_a_pointer(rows, pointer):
    with pytest.raises(builder.BuilderError) as refused:
        builder.rule_from_rows(rows)
    assert refused.value.errors[0]["pointer"] == pointer


# --- what the built rules answer -----------------------------------------------------------------

ANSWERS = [
    # (rows, combinator, context, expected truthiness)
    ([{"field": "data.reason", "op": "eq", "value": "other"}], "all", {"data": {"reason": "other"}}, True),
    ([{"field": "data.reason", "op": "eq", "value": "other"}], "all", {"data": {}}, False),
    ([{"field": "data.amount", "op": "empty"}], "all", {"data": {"amount": 0}}, False),
    ([{"field": "data.amount", "op": "empty"}], "all", {"data": {}}, True),
    ([{"field": "data.urgent", "op": "not_empty"}], "all", {"data": {"urgent": False}}, True),
    ([{"field": "data.reason_note", "op": "not_empty"}], "all", {"data": {"reason_note": ""}}, False),
    ([{"field": "data.tags", "op": "empty"}], "all", {"data": {"tags": []}}, True),
    ([{"field": "data.tags", "op": "contains", "value": "vip"}], "all", {"data": {"tags": ["new"]}}, False),
    (
        [{"field": "data.reason", "op": "in", "value": ["overdue", "other"]}],
        "all",
        {"data": {"reason": "x"}},
        False,
    ),
    (
        [
            {
                "field": "data.amount",
                "op": "le_lookup",
                "table": "deduction_limits",
                "column": "max_single",
                "key": "customer.tier",
            }
        ],
        "all",
        {"data": {"amount": 5000}, "customer": {"tier": "C"}},
        True,
    ),
    (
        [
            {
                "field": "data.amount",
                "op": "le_lookup",
                "table": "deduction_limits",
                "column": "max_single",
                "key": "customer.tier",
            }
        ],
        "all",
        {"data": {"amount": 5000.01}, "customer": {"tier": "C"}},
        False,
    ),
    (
        [
            {"field": "data.reason", "op": "eq", "value": "other"},
            {"field": "data.amount", "op": "ge", "value": 100},
        ],
        "all",
        {"data": {"reason": "other", "amount": 99}},
        False,
    ),
    (
        [
            {"field": "data.reason", "op": "eq", "value": "other"},
            {"field": "data.amount", "op": "ge", "value": 100},
        ],
        "any",
        {"data": {"reason": "other", "amount": 99}},
        True,
    ),
]
TABLES = {
    "deduction_limits": {
        "keyColumn": "tier",
        "columns": SPEC["tables"][0]["columns"],
        "rows": SPEC["tables"][0]["rows"],
    }
}


def _truthy(value) -> bool:
    return len(value) > 0 if isinstance(value, list) else bool(value)


def test_built_rules_answer_alike_on_the_server_and_in_the_browser(app_ctx, tmp_path):
    built = [
        builder.rule_from_rows(rows, combinator, list_fields=["data.tags"])
        for rows, combinator, _c, _e in ANSWERS
    ]
    on_server = [
        _truthy(rules.evaluate(rule, context, tables=TABLES))
        for rule, (_r, _c, context, _e) in zip(built, ANSWERS, strict=True)
    ]
    assert on_server == [expected for *_rest, expected in ANSWERS]
    node = shutil.which("node") or "/usr/bin/node"
    cases = tmp_path / "built.json"
    cases.write_text(
        json.dumps(
            [{"rule": rule, "data": a[2], "tables": TABLES} for rule, a in zip(built, ANSWERS, strict=True)]
        )
    )
    script = Path(__file__).parent.parent / "rules" / "js_rules.js"
    finished = subprocess.run(
        [node, str(script), str(cases)], capture_output=True, text=True, timeout=60, check=True
    )
    in_browser = [_truthy(result["value"]) for result in json.loads(finished.stdout)]
    assert in_browser == on_server


# --- what a builder offers --------------------------------------------------------------------------


def test_the_catalogue_offers_fields_rows_context_and_table_values(app_ctx):
    found = rule_builder.catalogue(SPEC)
    assert [c.pointer for c in found.targets][:3] == ["/amount", "/count", "/reason"]
    assert "/instalments/*/bank_account" in [c.pointer for c in found.targets]
    assert found.fields["row.method"].pointer == "/instalments/*/method"
    assert found.fields["data.reason"].options == (("overdue", "逾期"), ("other", "其他"))
    assert found.fields["data.tags"].is_list and found.list_fields() == ["data.tags", "data.instalments"]
    assert "customer.tier" in found.fields
    assert found.thresholds == [
        ("deduction_limits:max_single", "deduction_limits · max_single"),
        ("deduction_limits:dual_approval_above", "deduction_limits · dual_approval_above"),
    ]


@pytest.mark.parametrize(
    ("path", "text", "many", "expected"),
    [
        ("data.amount", "1,200.50", False, 1200.5),
        ("data.amount", "5000", False, 5000),
        ("data.count", "3", False, 3),
        ("data.reason", "other", False, "other"),
        ("data.reason", "其他", False, "other"),
        ("data.urgent", "yes", False, True),
        ("data.reason", "overdue, other", True, ["overdue", "other"]),
        ("customer.tier", "A", False, "A"),
    ],
)
def test_typed_values(path, text, many, expected, app_ctx):
    value = rule_builder.parse_value(text, rule_builder.catalogue(SPEC).fields[path], many=many)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("path", "text", "message"),
    [
        ("data.amount", "abc", "Enter a number."),
        ("data.count", "1.5", "Enter a whole number."),
        ("data.reason", "maybe", "Choose one of: overdue, other."),
        ("data.urgent", "perhaps", "Enter true or false."),
        ("data.reason_note", "  ", "Enter a value."),
    ],
)
def test_values_that_do_not_fit_the_field_are_refused(path, text, message, app):
    with (
        app.test_request_context(headers={"Cookie": "lang=en"}),
        pytest.raises(ValueError, match=re.escape(message)),
    ):
        rule_builder.parse_value(text, rule_builder.catalogue(SPEC).fields[path])


# --- the admin pages ----------------------------------------------------------------------------------


@pytest.fixture
def process(app):
    from formflow.processes import services

    with app.app_context():
        services.import_spec(SPEC)
        services.publish(SPEC["key"])
        db.session.commit()
    return SPEC["key"]


def latest(app, key):
    from formflow.processes import services

    with app.app_context():
        version = services.latest_version(key)
        return version.number, version.status, version.spec


def english(client):
    client.raw.set_cookie("lang", "en")
    return client


def builder_post(client, key, fields, url=None):
    url = url or f"/admin/processes/{key}/rules/new"
    return client.post_form(url, fields, token_page=f"/admin/processes/{key}/rules/new")


SHOW_NOTE = {
    "mode": "builder",
    "rule_id": "show-reason-note",
    "kind": "visible",
    "target": "/reason_note",
    "combinator": "all",
    "rows-0-field": "data.reason",
    "rows-0-op": "eq",
    "rows-0-value": "other",
    "rows-0-threshold": "",
    "rows-0-key": "customer.tier",
    "save": "1",
}


def test_admin_adds_a_show_this_field_when_condition_without_json(app, login_as, process):
    admin = english(login_as("admin"))
    page = admin.get(f"/admin/processes/{process}/rules/new").get_data(as_text=True)
    assert "Add condition" in page and 'name="rows-0-value"' in page
    response = builder_post(admin, process, SHOW_NOTE)
    assert response.status_code == 302, response.get_data(as_text=True)
    number, status, spec = latest(app, process)
    assert (number, status) == (2, "draft")
    assert spec["rules"][-1] == {
        "id": "show-reason-note",
        "kind": "visible",
        "field": "/reason_note",
        "when": {"==": [{"var": "data.reason"}, "other"]},
    }
    listing = admin.get(f"/admin/processes/{process}/rules/").get_data(as_text=True)
    assert "show-reason-note" in listing and "Reason equals Other" in listing  # the option, by its label


def test_admin_adds_a_tier_threshold_validation(app, login_as, process):
    admin = english(login_as("admin"))
    page = admin.get(f"/admin/processes/{process}/rules/new?preset=tier").get_data(as_text=True)
    assert 'value="le_lookup" data-ff-operand="lookup" selected' in page
    assert '<option selected value="deduction_limits:max_single">' in page
    fields = {
        **SHOW_NOTE,
        "rule_id": "amount-within-tier-limit",
        "kind": "validate",
        "target": "/amount",
        "rows-0-field": "data.amount",
        "rows-0-op": "le_lookup",
        "rows-0-value": "",
        "rows-0-threshold": "deduction_limits:max_single",
        "message_zh": "超过该等级单笔扣款上限",
        "message_en": "Above the tier's single-deduction limit",
    }
    assert builder_post(admin, process, fields).status_code == 302
    rule = latest(app, process)[2]["rules"][-1]
    assert rule["when"] == {
        "<=": [
            {"var": "data.amount"},
            {"lookup": ["deduction_limits", {"var": "customer.tier"}, "max_single"]},
        ]
    }
    assert rule["message"]["en"] == "Above the tier's single-deduction limit"
    # shown back as rows
    edit = admin.get(f"/admin/processes/{process}/rules/amount-within-tier-limit/edit").get_data(as_text=True)
    assert 'name="rows-0-op"' in edit and 'value="le_lookup" data-ff-operand="lookup" selected' in edit


def test_a_bad_value_is_shown_next_to_its_row_and_nothing_is_saved(app, login_as, process):
    admin = english(login_as("admin"))
    fields = {**SHOW_NOTE, "rows-0-field": "data.amount", "rows-0-op": "gt", "rows-0-value": "lots"}
    response = builder_post(admin, process, fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<small class="ff-error" id="rows-0-error" role="alert">Enter a number.</small>', page)
    assert 'aria-invalid="true"' in page and 'value="lots"' in page  # what was typed stays
    assert latest(app, process)[:2] == (1, "published")


def test_problems_found_by_the_spec_check_land_on_their_row(app, login_as, process):
    admin = english(login_as("admin"))
    fields = {
        **SHOW_NOTE,
        "rows-1-field": "row.method",  # a row's field in a rule that is not on a row
        "rows-1-op": "eq",
        "rows-1-value": "bank",
        "rows-1-threshold": "",
        "rows-1-key": "customer.tier",
    }
    response = builder_post(admin, process, fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="rows-1-error" role="alert">[^<]*row\.method', page)
    assert latest(app, process)[:2] == (1, "published")


def test_add_and_remove_condition_work_without_javascript(login_as, process):
    admin = english(login_as("admin"))
    added = builder_post(
        admin, process, {**{k: v for k, v in SHOW_NOTE.items() if k != "save"}, "add_row": "1"}
    )
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    assert 'name="rows-1-field"' in page and 'value="other"' in page  # the first row is kept
    removed = builder_post(
        admin,
        process,
        {
            **SHOW_NOTE,
            "rows-1-field": "data.amount",
            "rows-1-op": "gt",
            "rows-1-value": "5",
            "remove_row": "0",
        },
    )
    page = removed.get_data(as_text=True)
    assert 'name="rows-1-field"' not in page and 'value="5"' in page


def test_a_rule_rows_cannot_say_opens_in_the_json_editor_and_is_checked_on_save(app, login_as, process):
    admin = english(login_as("admin"))
    page = admin.get(f"/admin/processes/{process}/rules/fee-note/edit").get_data(as_text=True)
    assert 'name="text"' in page and "rows-0-field" not in page
    bad = {
        "id": "fee-note",
        "kind": "visible",
        "field": "/reason_note",
        "when": {"==": [{"var": "data.reson"}, 1]},
    }
    response = admin.post_form(
        f"/admin/processes/{process}/rules/fee-note/edit",
        {"mode": "json", "text": json.dumps(bad), "save": "1"},
        token_page=f"/admin/processes/{process}/rules/new",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<code>/when/==/0/var</code>" in page and "data.reason" in page  # did you mean …
    good = {**bad, "when": {"==": [{"var": "data.reason"}, "other"]}}
    response = admin.post_form(
        f"/admin/processes/{process}/rules/fee-note/edit",
        {"mode": "json", "text": json.dumps(good), "save": "1"},
        token_page=f"/admin/processes/{process}/rules/new",
    )
    assert response.status_code == 302
    assert latest(app, process)[2]["rules"] == [good]


def test_deleting_a_rule_makes_a_draft_without_it(app, login_as, process):
    admin = english(login_as("admin"))
    response = admin.post_form(f"/admin/processes/{process}/rules/fee-note/delete", {}, token_page="/")
    assert response.status_code == 302
    number, status, spec = latest(app, process)
    assert (number, status) == (2, "draft") and "rules" not in spec


def test_posts_without_csrf_change_nothing(app, login_as, process):
    admin = login_as("admin")
    response = admin.raw.post(f"/admin/processes/{process}/rules/new", data=SHOW_NOTE)
    assert response.status_code == 400
    response = admin.raw.post(f"/admin/processes/{process}/rules/fee-note/delete")
    assert response.status_code in (302, 400)
    assert latest(app, process)[:2] == (1, "published")


def test_auditors_read_the_rules_but_cannot_change_them(login_as, process):
    auditor = login_as("auditor")
    assert auditor.get(f"/admin/processes/{process}/rules/").status_code == 200
    assert auditor.get(f"/admin/processes/{process}/rules/new").status_code == 403


def test_a_rule_added_as_json_can_move_to_the_builder(app, login_as, process):
    admin = english(login_as("admin"))
    page = admin.get(f"/admin/processes/{process}/rules/new?mode=json").get_data(as_text=True)
    assert 'name="text"' in page and "new-rule" in page
    rule = {
        "id": "tags-shown",
        "kind": "visible",
        "field": "/tags",
        "when": {"==": [{"var": "data.urgent"}, True]},
    }
    moved = admin.post_form(
        f"/admin/processes/{process}/rules/new",
        {"mode": "json", "text": json.dumps(rule), "to_builder": "1"},
        token_page=f"/admin/processes/{process}/rules/new",
    )
    page = moved.get_data(as_text=True)
    assert moved.status_code == 200 and 'name="rows-0-value"' in page and 'value="true"' in page
    not_json = admin.post_form(
        f"/admin/processes/{process}/rules/new",
        {"mode": "json", "text": "{oops", "save": "1"},
        token_page=f"/admin/processes/{process}/rules/new",
    )
    assert not_json.status_code == 422 and "This is not valid JSON" in not_json.get_data(as_text=True)
    assert latest(app, process)[:2] == (1, "published")
