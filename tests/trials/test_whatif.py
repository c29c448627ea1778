"""What-if: a candidate version's rules replayed over the last cases of a process, compared
with the published version: validity, required fields, computed values, approvals."""

from __future__ import annotations

import copy

import flask_babel
import pytest

from formflow import tables
from formflow.auth import services as users
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.processes import services as processes
from formflow.trials import whatif

LIMITS = {
    "key": "deduction_limits",
    "name": {"zh-CN": "扣款上限", "en": "Deduction limits"},
    "keyColumn": "tier",
    "columns": [
        {"name": "tier", "type": "text"},
        {"name": "max_single", "type": "money"},
        {"name": "dual_approval_above", "type": "money"},
    ],
    "rows": [["A", 50000, 20000], ["B", 20000, 10000], ["C", 5000, 2000]],
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
                "reason": {"type": "string"},
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
    "workflow": {
        "start": "draft",
        "states": {
            "draft": {"kind": "form", "actions": {"submit": {"to": "review"}}},
            "done": {"kind": "final"},
            "review": {
                "kind": "approval",
                "actions": {"approve": {"to": "done", "roles": ["finance"]}},
                "approvals": {
                    "required": {
                        "if": [
                            {
                                ">": [
                                    {"var": "data.amount"},
                                    {
                                        "lookup": [
                                            "deduction_limits",
                                            {"var": "customer.tier"},
                                            "dual_approval_above",
                                        ]
                                    },
                                ]
                            },
                            2,
                            1,
                        ]
                    }
                },
            },
        },
    },
}

#: (customer, tier, amount) of the submitted cases, oldest first
PAST = [
    ("B001", "B", 8000),
    ("B002", "B", 12000),
    ("B003", "B", 15000),
    ("A001", "A", 30000),
    ("C001", "C", 1000),
]


@pytest.fixture
def english(app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


def _fee_table() -> None:
    fees = tables.create_global_table(
        "handling_fees",
        {"zh-CN": "手续费", "en": "Handling fees"},
        [{"name": "tier", "type": "text"}, {"name": "flat_fee", "type": "money"}],
        "tier",
    )
    tables.save_global_table("handling_fees", [["A", 10], ["B", 20], ["C", 30]], expected_number=fees.number)


@pytest.fixture
def seeded(app_ctx, english):
    """The process published, fee table global, five submitted cases and one draft."""
    staff = users.create_user("whatif-staff", "correct-horse-9", ["staff"])
    _fee_table()
    processes.import_spec(SPEC)
    processes.publish("deduction")
    for code, tier, amount in PAST:
        customers.create(code, f"Customer {code}", tier)
        cases.start("deduction", code, {"amount": amount}, submit=True, actor=staff)
    customers.create("B004", "Customer B004", "B")
    cases.start("deduction", "B004", {"amount": 19000}, submit=False, actor=staff)  # a draft: not replayed
    db.session.flush()
    return staff


def _candidate(**rows) -> dict:
    """SPEC with rows of the limits table replaced: _candidate(B=["B", 10000, 5000])."""
    spec = copy.deepcopy(SPEC)
    table = spec["tables"][0]
    table["rows"] = [rows.get(row[0], row) for row in table["rows"]]
    return spec


def test_the_published_spec_changes_nothing(seeded):
    result = whatif.replay("deduction", copy.deepcopy(SPEC))
    assert result.replayed == 5 and result.changes == []
    assert result.summary() == "The outcomes of the 5 past cases replayed would not change."


def test_a_lower_limit_makes_past_cases_invalid(seeded):
    result = whatif.replay("deduction", _candidate(B=["B", 10000, 10000]))
    assert result.replayed == 5
    assert result.newly_invalid == 2
    changed = {change.case.customer.code: change for change in result.changes}
    assert set(changed) == {"B002", "B003"}
    assert changed["B002"].new_errors == [("/amount", "Above the tier's single-deduction limit")]
    assert changed["B002"].before.valid and not changed["B002"].after.valid
    assert result.summary() == "2 past cases would now be invalid."


def test_a_lower_dual_threshold_changes_approvals(seeded):
    result = whatif.replay("deduction", _candidate(B=["B", 20000, 5000]))
    assert [change.case.customer.code for change in result.changes] == ["B001"]
    assert result.changes[0].approval_changes == [("review", 1, 2)]
    assert result.summary() == "1 past case would now need 2 approvals."


def test_a_new_global_table_version_changes_computed_values(seeded):
    latest = tables.latest_global_version(tables.get_global_table("handling_fees"))
    tables.save_global_table(
        "handling_fees", [["A", 10], ["B", 25], ["C", 30]], expected_number=latest.number
    )
    result = whatif.replay("deduction", copy.deepcopy(SPEC))  # same spec, newest global table
    assert result.computed_values_changed == 3
    assert sorted((c.case.customer.code, *c.computed_changes[0][1:]) for c in result.changes) == [
        ("B001", 20, 25),
        ("B002", 20, 25),
        ("B003", 20, 25),
    ]
    assert result.summary() == "3 computed values would change."


def test_a_new_required_rule_reports_missing_fields(seeded):
    spec = copy.deepcopy(SPEC)
    spec["rules"].append(
        {
            "id": "reason-above-10000",
            "kind": "required",
            "field": "/reason",
            "when": {">": [{"var": "data.amount"}, 10000]},
        }
    )
    result = whatif.replay("deduction", spec)
    assert sorted(change.case.customer.code for change in result.changes) == ["A001", "B002", "B003"]
    assert all(change.newly_missing == ["/reason"] for change in result.changes)
    assert (
        result.summary() == "3 past cases would now be invalid; 3 past cases would now miss a required field."
    )


def test_several_changes_are_summed_up_together(seeded):
    latest = tables.latest_global_version(tables.get_global_table("handling_fees"))
    tables.save_global_table(
        "handling_fees", [["A", 10], ["B", 25], ["C", 30]], expected_number=latest.number
    )
    result = whatif.replay("deduction", _candidate(B=["B", 10000, 5000]))
    assert result.summary_lines() == [
        "2 past cases would now be invalid",
        "3 computed values would change",
        "1 past case would now need 2 approvals",
    ]


def test_only_the_last_n_cases_are_replayed(seeded):
    result = whatif.replay("deduction", _candidate(B=["B", 10000, 10000]), last=2)
    assert result.replayed == 2  # C001 and A001, the newest
    assert result.changes == []


def test_replay_version_compares_the_draft(seeded):
    processes.import_spec(_candidate(B=["B", 10000, 10000]))
    assert whatif.candidate("deduction").number == 2
    result = whatif.replay_version("deduction")
    assert (result.candidate_number, result.baseline.number, result.newly_invalid) == (2, 1, 2)


def test_a_process_without_cases_or_publication(app_ctx, english):
    _fee_table()
    processes.import_spec(SPEC)
    assert whatif.candidate("deduction").number == 1
    result = whatif.replay_version("deduction")
    assert result.baseline is None and result.replayed == 0
    assert result.summary() == "There are no past cases to replay."
    processes.publish("deduction")
    assert whatif.candidate("deduction") is None


def _texts(explanation: dict) -> list[str]:
    return [read["text"] for read in explanation["reads"]]


def test_each_change_is_explained_on_both_sides(seeded):
    result = whatif.replay("deduction", _candidate(B=["B", 10000, 5000]))
    changed = {change.case.customer.code: change for change in result.changes}
    before, after = changed["B002"].before.why("/amount"), changed["B002"].after.why("/amount")
    assert [e["result"] for e in before] == [True] and [e["result"] for e in after] == [False]
    assert "lookup(deduction_limits, B, max_single) = 20000" in _texts(before[0])
    assert "lookup(deduction_limits, B, max_single) = 10000" in _texts(after[0])
    assert "data.amount = 12000" in _texts(after[0])
    approvals = changed["B001"]  # 8000 is above the new dual-approval threshold of 5000
    assert (
        approvals.before.why_approvals("review")["result"],
        approvals.after.why_approvals("review")["result"],
    ) == (1, 2)
    assert "lookup(deduction_limits, B, dual_approval_above) = 5000" in _texts(
        approvals.after.why_approvals("review")
    )
    assert approvals.after.why_approvals("draft") is None  # a state without approvals


def test_the_whatif_page_opens_each_change_to_its_evaluation(seeded, login_as):
    processes.import_spec(_candidate(B=["B", 10000, 5000]))
    db.session.commit()
    auditor = login_as("auditor")
    auditor.get("/lang/en")
    page = auditor.get("/admin/processes/deduction/whatif").get_data(as_text=True)
    changes = page[page.index('data-testid="whatif-changes"') :]
    assert "Why? (published)" in changes and "Why? (draft)" in changes
    assert "lookup(deduction_limits, B, max_single) = 10000" in changes
    assert "lookup(deduction_limits, B, dual_approval_above) = 5000" in changes
    auditor.get("/lang/zh_CN")
    flask_babel.refresh()  # the fixture's app context (and its cached locale) serves every request
    page = auditor.get("/admin/processes/deduction/whatif").get_data(as_text=True)
    assert "为什么？（草稿）" in page and "为什么？（现行版本）" in page
