"""A spec's own `tests`: run by `formflow check` and before publishing (refused while one
fails, showing expected vs actual), and the admin "try it" panel over a context or a past case."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from formflow.errors import Invalid
from formflow.extensions import db
from formflow.processes import services, spec_tests

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

SCHEMA = {
    "type": "object",
    "required": ["amount"],
    "properties": {
        "amount": {"type": "number", "title": "Amount", "multipleOf": 0.01},
        "reason": {"type": "string", "enum": ["quality", "other"]},
        "reason_note": {"type": "string"},
        "due": {"type": "string", "format": "date"},
        "fee": {"type": "number", "multipleOf": 0.01, "readOnly": True},
        "ratio": {"type": "number", "readOnly": True},
        "locked": {"type": "string"},
    },
}
RULES = [
    {
        "id": "show-note",
        "kind": "visible",
        "field": "/reason_note",
        "when": {"==": [{"var": "data.reason"}, "other"]},
    },
    {
        "id": "note-required",
        "kind": "required",
        "field": "/reason_note",
        "when": {"==": [{"var": "data.reason"}, "other"]},
    },
    {
        "id": "limit",
        "kind": "validate",
        "field": "/amount",
        "when": {
            "<=": [{"var": "data.amount"}, {"lookup": ["limits", {"var": "customer.tier"}, "max_single"]}]
        },
        "message": {"zh-CN": "超过上限", "en": "Above the tier's limit"},
    },
    {"id": "fee", "kind": "compute", "field": "/fee", "value": {"*": [{"var": "data.amount"}, 0.06]}},
    {"id": "ratio", "kind": "compute", "field": "/ratio", "value": {"/": [100, {"var": "data.amount"}]}},
    {"id": "lock", "kind": "enable", "field": "/locked", "when": {"!=": [{"var": "customer.tier"}, "C"]}},
    {
        "id": "not-overdue",
        "kind": "validate",
        "field": "/due",
        "when": {
            "or": [{"!": {"var": "data.due"}}, {"!": {"date_before": [{"var": "data.due"}, {"today": []}]}}]
        },
        "message": {"zh-CN": "已逾期", "en": "Overdue"},
    },
]
TABLES = [
    {"key": "limits", "keyColumn": "tier", "columns": ["tier", "max_single"], "rows": [["A", 500], ["C", 50]]}
]
PASSING = [
    {
        "name": "tier A within the limit",
        "context": {"data": {"amount": 200}, "customer": {"tier": "A"}},
        "expect": {
            "valid": True,
            "visible": {"/reason_note": False},
            "required": {"/reason_note": False, "/amount": True},
            "enabled": {"/locked": True},
            "computed": {"/fee": 12, "/ratio": 0.5},
            "approvals_required": 1,
        },
    },
    {
        "name": "tier C above the limit, other reason without a note",
        "context": {"data": {"amount": 100.5, "reason": "other"}, "customer": {"tier": "C"}},
        "expect": {
            "valid": False,
            "errors": ["/amount", "/reason_note"],
            "visible": {"/reason_note": True},
            "required": {"/reason_note": True},
            "enabled": {"/locked": False},
            "computed": {"/fee": 6.03},
        },
    },
]


def ruled(tests: list, key: str = "ruled") -> dict:
    return {
        "formflow": 1,
        "key": key,
        "category": "deduction",
        "name": {"zh-CN": "规则", "en": "Ruled"},
        "form": {"schema": copy.deepcopy(SCHEMA)},
        "rules": copy.deepcopy(RULES),
        "tables": copy.deepcopy(TABLES),
        "tests": copy.deepcopy(tests),
    }


def failing(**changes) -> dict:
    """The first passing test with its expectations changed."""
    test = copy.deepcopy(PASSING[0])
    test["expect"].update(changes)
    return test


@pytest.fixture
def english(app):
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        yield


def test_passing_tests_report_nothing(english):
    assert services.check_spec(ruled(PASSING)) == []
    assert services.run_spec_tests(ruled(PASSING)) == []


def test_the_payment_registration_template_passes_its_tests(english):
    spec = services.parse_spec_text((CONFIGS / "payment_registration.json").read_bytes())
    assert services.check_spec(spec) == []
    assert spec["tests"] and services.run_spec_tests(spec) == []


@pytest.mark.parametrize(
    ("test", "message"),
    [
        (
            {
                "name": "over",
                "context": {"data": {"amount": 900}, "customer": {"tier": "A"}},
                "expect": {"valid": True},
            },
            "expected valid, got 1 error(s): /amount: Above the tier's limit (test “over”)",
        ),
        (
            {
                "name": "ok",
                "context": {"data": {"amount": 9}, "customer": {"tier": "A"}},
                "expect": {"valid": False},
            },
            "expected errors, got valid (test “ok”)",
        ),
        (
            {
                "name": "which",
                "context": {"data": {"amount": 900}, "customer": {"tier": "A"}},
                "expect": {"errors": ["/reason_note"]},
            },
            "expected errors at /reason_note, got /amount: Above the tier's limit (test “which”)",
        ),
        (
            {
                "name": "none",
                "context": {"data": {"amount": 9}, "customer": {"tier": "A"}},
                "expect": {"errors": ["/amount"]},
            },
            "expected errors at /amount, got none (test “none”)",
        ),
        (
            failing(visible={"/reason_note": True}),
            "/reason_note: expected visible, got hidden (test “tier A within the limit”)",
        ),
        (
            failing(required={"/reason_note": True}),
            "/reason_note: expected required, got not required (test “tier A within the limit”)",
        ),
        (
            failing(enabled={"/locked": False}),
            "/locked: expected read-only, got enabled (test “tier A within the limit”)",
        ),
        (
            failing(computed={"/fee": 12.01}),
            "/fee: expected 12.01, got 12.00 (test “tier A within the limit”)",
        ),
        (failing(computed={"/fee": None}), "/fee: expected null, got 12.00 (test “tier A within the limit”)"),
        (failing(computed={"/fee": "12"}), '/fee: expected "12", got 12.00 (test “tier A within the limit”)'),
    ],
)
def test_each_failure_says_expected_and_actual(english, test, message):
    assert services.run_spec_tests(ruled([test])) == [{"pointer": "/tests/0", "message": message}]


def test_numbers_compare_as_decimals(english):
    assert spec_tests.same_value(12.5, spec_tests.Decimal("12.50"))
    assert spec_tests.same_value(0.3, 0.30000000000000004) is False
    assert spec_tests.same_value([1, {"a": 2.0}], [1, {"a": 2}])
    assert spec_tests.same_value(True, 1) is False


def test_a_rule_failing_at_run_time_is_named_in_the_failure(english):
    test = {
        "name": "zero",
        "context": {"data": {"amount": 0}, "customer": {"tier": "A"}},
        "expect": {"computed": {"/ratio": 1}},
    }
    [failure] = services.run_spec_tests(ruled([test]))
    assert failure["pointer"] == "/tests/0"
    assert failure["message"].startswith("/ratio: expected 1, got nothing (Rule “ratio”: ")


def test_now_fixes_today_for_date_rules(english):
    overdue = {
        "name": "overdue",
        "expect": {"errors": ["/due"]},
        "context": {
            "data": {"amount": 1, "due": "2026-03-01"},
            "customer": {"tier": "A"},
            "now": "2026-03-02T09:00:00+08:00",
        },
    }
    on_time = copy.deepcopy(overdue) | {"name": "on time", "expect": {"valid": True}}
    on_time["context"]["now"] = "2026-03-01T23:30:00+08:00"
    assert services.run_spec_tests(ruled([overdue, on_time])) == []


def test_failures_of_several_tests_point_at_each(english):
    tests = [PASSING[0], failing(valid=False), PASSING[1], failing(computed={"/fee": 1})]
    assert [f["pointer"] for f in services.run_spec_tests(ruled(tests))] == ["/tests/1", "/tests/3"]


# --- formflow check -------------------------------------------------------------------------


def _write(tmp_path, name: str, spec: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_cli_check_prints_failing_tests_and_exits_1(cli, tmp_path):
    bad = _write(tmp_path, "bad.json", ruled([PASSING[0], failing(computed={"/fee": 13})]))
    good = _write(tmp_path, "good.json", ruled(PASSING))
    result = cli("check", good, bad)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert [line for line in lines if line.startswith(f"{bad}:")] == [
        f"{bad}:/tests/1: /fee：预期 13，实际 12.00（测试“tier A within the limit”）"  # the CLI speaks zh-CN
    ]
    assert not any(line.startswith(f"{good}:") for line in lines)


def test_cli_check_of_passing_tests_is_clean(cli, tmp_path):
    result = cli(
        "check", _write(tmp_path, "good.json", ruled(PASSING)), *map(str, sorted(CONFIGS.glob("*.json")))
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")


def test_cli_check_does_not_run_tests_of_a_broken_spec(cli, tmp_path):
    spec = ruled([failing(valid=False)])
    spec["rules"][0]["when"] = {"frob": [1]}
    result = cli("check", _write(tmp_path, "broken.json", spec))
    assert result.exit_code == 1
    assert "/rules/0/when" in result.output and "/tests/" not in result.output


def test_cli_check_output_for_an_invalid_expectation(cli, tmp_path):
    test = {
        "name": "over",
        "context": {"data": {"amount": 900, "reason": "other"}, "customer": {"tier": "A"}},
        "expect": {"valid": True},
    }
    path = _write(tmp_path, "over.json", ruled([test]))
    result = cli("check", path)
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if line.startswith(path)]
    assert re.match(rf"^{re.escape(path)}:/tests/0: \S.* 2 .*/amount: .*/reason_note: ", line), line


# --- publishing is refused while a test fails -----------------------------------------------


def test_publish_is_refused_while_a_test_fails(english):
    services.import_spec(ruled([failing(computed={"/fee": 13})]))
    with pytest.raises(Invalid) as refused:
        services.publish("ruled")
    assert refused.value.errors == [
        {"pointer": "/tests/0", "message": "/fee: expected 13, got 12.00 (test “tier A within the limit”)"}
    ]
    assert services.latest_version("ruled").status == "draft"


def test_publish_runs_once_the_tests_pass(english):
    services.import_spec(ruled([failing(computed={"/fee": 13})]))
    services.import_spec(ruled(PASSING))
    assert services.publish("ruled").status == "published"


def test_publish_page_shows_expected_vs_actual(app, login_as):
    with app.app_context():
        version = services.import_spec(ruled([failing(valid=False)])).version
        sha256 = version.sha256
        db.session.commit()
    admin = login_as("admin")
    response = admin.post_form(
        "/admin/processes/ruled/publish", {"number": 1, "sha256": sha256}, token_page="/admin/processes/ruled"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "/tests/0" in page and "预期有错误，实际有效" in page
    with app.app_context():
        assert services.latest_version("ruled").status == "draft"


def test_api_publish_answers_422_with_the_failures(app, make_user):
    from formflow.auth import services as users

    make_user("api-publisher", roles=["admin"])
    with app.app_context():
        services.import_spec(ruled([failing(valid=False)]))
        plain, _token = users.create_token(users.find_user("api-publisher"), "t")
        db.session.commit()
    response = app.test_client().post(
        "/api/v1/processes/ruled/publish", headers={"Authorization": f"Bearer {plain}", "Cookie": "lang=en"}
    )
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"pointer": "/tests/0", "message": "预期有错误，实际有效（测试“tier A within the limit”）"}
    ]


# --- the "try it" panel ---------------------------------------------------------------------

TRY = "/admin/processes/ruled/versions/1/try"


@pytest.fixture
def tried(app):
    """The ruled process, published, with a message and a field name that need escaping."""
    spec = ruled(PASSING)
    spec["rules"][2]["message"]["en"] = "<script>alert('limit')</script>"
    with app.app_context():
        services.import_spec(spec)
        services.publish("ruled")
        db.session.commit()
    return spec


def _try(client, **data):
    client.raw.set_cookie("lang", "en")
    return client.post_form(TRY, data, token_page=TRY)


def test_try_page_starts_from_a_sample_context(login_as, tried):
    admin = login_as("admin")
    admin.raw.set_cookie("lang", "en")
    page = admin.get(TRY).get_data(as_text=True)
    assert '"tier": "A"' in page.replace("&#34;", '"')
    assert 'data-testid="try-result"' not in page


def test_admin_tries_a_context_and_sees_each_rule(login_as, tried):
    admin = login_as("admin")
    context = {"data": {"amount": 900, "reason": "other"}, "customer": {"tier": "A"}}
    response = _try(admin, context=json.dumps(context), run="Run")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    results = page[page.index('data-testid="rule-results"') :]
    for rule in RULES:
        assert f"<code>{rule['id']}</code>" in results
    assert "<code>54.00</code>" in page  # the computed fee
    assert "&lt;script&gt;alert(&#39;limit&#39;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "/reason_note" in page[page.index('data-testid="validation-errors"') :]


def test_a_run_time_failure_shows_at_its_rule(login_as, tried):
    admin = login_as("admin")
    page = _try(admin, context=json.dumps({"data": {"amount": 0}, "customer": {"tier": "A"}}), run="Run")
    text = page.get_data(as_text=True)
    row = text[text.index("<code>ratio</code>") :].split("</tr>")[0]
    assert "Rule “ratio”" in row


def test_a_bad_context_is_refused_with_a_pointer(login_as, tried):
    admin = login_as("admin")
    response = _try(admin, context='{"data": [], "tier": "A"}', run="Run")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<code>/data</code>" in page and "<code>/tier</code>" in page
    response = _try(admin, context="{not json", run="Run")
    assert response.status_code == 422 and "Not valid JSON" in response.get_data(as_text=True)


def test_try_with_a_past_case(app, login_as, tried):
    from formflow.auth import services as users
    from formflow.cases import services as cases
    from formflow.customers import services as customers

    admin = login_as("admin")
    with app.app_context():
        customers.create("C900", "<b>Escaped</b> Ltd", "C")
        staff = users.create_user("try-staff", "correct-horse-9", ["staff"])
        case = cases.start("ruled", "C900", {"amount": 40}, submit=True, actor=staff)
        db.session.commit()
        case_id = case.id
    page = admin.get(TRY).get_data(as_text=True)
    assert f'<option value="{case_id}"' in page and "&lt;b&gt;Escaped&lt;/b&gt; Ltd" in page
    response = _try(admin, context="", case=str(case_id), use_case="Use")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "&#34;tier&#34;: &#34;C&#34;" in text and "&#34;amount&#34;: 40" in text
    assert "<code>2.40</code>" in text  # fee of the case's amount
    results = text[text.index('data-testid="rule-results"') :]
    lock = results[results.index("<code>lock</code>") :].split("</tr>")[0]
    assert "read-only" in lock  # tier C: the locked field is not editable


def test_a_case_of_another_process_cannot_be_picked(login_as, tried):
    admin = login_as("admin")
    response = _try(admin, context="", case="999999", use_case="Use")
    assert response.status_code == 422
    assert "No case 999999 of this process." in response.get_data(as_text=True)


def test_auditors_may_try_staff_may_not(login_as, tried):
    auditor = login_as("auditor")
    assert _try(auditor, context=json.dumps({"data": {"amount": 1}}), run="Run").status_code == 200
    staff = login_as("staff")
    assert staff.get(TRY).status_code == 403


def test_each_rule_result_of_a_try_opens_to_its_evaluation(login_as, tried):
    admin = login_as("admin")
    context = {"data": {"amount": 900, "reason": "other"}, "customer": {"tier": "A"}}
    page = _try(admin, context=json.dumps(context), run="Run").get_data(as_text=True)
    results = page[page.index('data-testid="rule-results"') :]
    assert results.count('<details class="why">') >= len(RULES) - 1  # every rule that ran
    assert "<code>data.amount = 900</code>" in results
    assert "<code>lookup(limits, A, max_single) = 500</code>" in results  # why the limit fails
    assert "<code>customer.tier = A</code>" in results
    admin.raw.set_cookie("lang", "zh-CN")
    page = admin.post_form(TRY, {"context": json.dumps(context), "run": "Run"}, token_page=TRY).get_data(
        as_text=True
    )
    assert "为什么？" in page and "读取的值" in page
