"""Auditors read processes, their rules and parameter tables, and the global tables, but change
nothing: no edit/import/publish/save/delete control on any of those pages (in either language),
and every POST route of the processes, tables and rules blueprints answers them 403."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from formflow import tables
from formflow.audit.models import AuditEntry
from formflow.auth import services as users
from formflow.cases import services as cases
from formflow.customers import services as customers
from formflow.extensions import db
from formflow.processes import services as processes
from formflow.processes.models import ProcessVersion
from formflow.tables.models import GlobalTableVersion

LIMITS = {
    "key": "deduction_limits",
    "name": {"zh-CN": "扣款上限", "en": "Deduction limits"},
    "keyColumn": "tier",
    "columns": [{"name": "tier", "type": "text"}, {"name": "max_single", "type": "money"}],
    "rows": [["A", 50000], ["B", 20000]],
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
            "id": "within-limit",
            "kind": "validate",
            "field": "/amount",
            "when": {
                "<=": [
                    {"var": "data.amount"},
                    {"lookup": ["deduction_limits", {"var": "customer.tier"}, "max_single"]},
                ]
            },
            "message": {"zh-CN": "超过上限", "en": "Above the limit"},
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


@pytest.fixture
def estate(app):
    """What the pages can show: a global table read by a published version pinned to an older
    version of it and by a draft, a process table, rules, and a submitted case."""
    with app.app_context():
        tables.create_global_table(
            "handling_fees",
            {"zh-CN": "手续费", "en": "Handling fees"},
            [{"name": "tier", "type": "text"}, {"name": "flat_fee", "type": "money"}],
            "tier",
        )
        tables.save_global_table("handling_fees", [["A", 10], ["B", 20]], expected_number=1)
        processes.import_spec(SPEC)
        processes.publish("deduction")  # pins handling_fees v2
        tables.save_global_table("handling_fees", [["A", 10], ["B", 25]], expected_number=2)
        customers.create("B001", "Customer B001", "B")
        staff = users.create_user("ro-staff", "correct-horse-9", ["staff"])
        cases.start("deduction", "B001", {"amount": 100}, submit=True, actor=staff)
        draft = copy.deepcopy(SPEC)
        draft["rules"][0]["message"]["en"] = "Above the tier's limit"
        processes.import_spec(draft)  # v2, a draft reading the newest handling_fees
        db.session.commit()


READ_PAGES = [
    "/admin/processes/",
    "/admin/processes/deduction",
    "/admin/processes/deduction/versions/1",
    "/admin/processes/deduction/versions/2",
    "/admin/processes/deduction/versions/2/try",
    "/admin/processes/deduction/whatif",
    "/admin/processes/deduction/rules/",
    "/admin/tables/",
    "/admin/tables/handling_fees",
    "/admin/tables/handling_fees/versions/1",
]

#: What a control that changes something says, in either language.
CHANGING_WORDS = {
    "zh_CN": re.compile("编辑|导入|发布|保存|删除|移除|添加|新建|创建|采用"),
    "en": re.compile(r"\b(?:edit|import|publish|save|delete|remove|add|new|create)\b|\buse v\d", re.I),
}


class _Controls(HTMLParser):
    """In <main>: the text of each link and button, and where each POST form goes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.controls: list[str] = []
        self.post_actions: list[str] = []
        self._in_main = False
        self._open: list[str] = []  # text of the <a>/<button> being read

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self._in_main = True
        if not self._in_main:
            return
        if tag in ("a", "button"):
            self._open.append(attrs.get("aria-label") or "")
        elif tag == "input" and (attrs.get("type") or "") in ("submit", "button"):
            self.controls.append(attrs.get("value") or "")
        elif tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.post_actions.append(attrs.get("action") or "")

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main = False
        elif tag in ("a", "button") and self._open:
            self.controls.append(" ".join(self._open.pop().split()))

    def handle_data(self, data):
        if self._open:
            self._open[-1] += data


def _controls(page: str) -> _Controls:
    parser = _Controls()
    parser.feed(page)
    parser.close()
    return parser


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("url", READ_PAGES)
def test_the_auditor_reads_every_page_without_a_control_that_changes_something(login_as, estate, url, lang):
    auditor = login_as("auditor")
    auditor.raw.set_cookie("lang", lang)
    response = auditor.get(url)
    assert response.status_code == 200
    found = _controls(response.get_data(as_text=True))
    assert found.controls, "the page was read"
    changing = [control for control in found.controls if CHANGING_WORDS[lang].search(control)]
    assert changing == []
    # the try panel runs the rules and stores nothing (tested below); no other page posts
    assert [a for a in found.post_actions if not a.endswith("/try")] == []


def test_the_admin_sees_the_controls_the_auditor_does_not(login_as, estate):
    """The word lists above do catch what a manager is shown (so an empty match means something)."""
    admin = login_as("admin")
    admin.raw.set_cookie("lang", "en")
    shown = " | ".join(
        control for url in READ_PAGES for control in _controls(admin.get(url).get_data(as_text=True)).controls
    )
    found = {match.lower().rstrip("0123456789") for match in CHANGING_WORDS["en"].findall(shown)}
    assert {"edit", "import", "publish", "delete", "use v", "new"} <= found


# --- every POST route -------------------------------------------------------------------------

BLUEPRINTS = ("processes", "tables", "process_rules")
ARGUMENTS = {
    "processes": {
        "key": "deduction",
        "number": 2,
        "table_key": "deduction_limits",
        "state": "review",
        "slug": "deduction",
        "field": "amount",
    },
    "process_rules": {"key": "deduction", "rule_id": "within-limit"},
    "tables": {"key": "handling_fees", "number": 1},
}
#: POST routes an auditor may use: they compute and show, and store nothing.
READ_ONLY_POSTS = {"processes.try_rules"}


def _post_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0]
        if blueprint in BLUEPRINTS and "POST" in rule.methods:
            values = {name: ARGUMENTS[blueprint][name] for name in rule.arguments}
            routes.append((rule.endpoint, rule.build(values)[1]))
    return sorted(routes)


def _stored(app) -> dict[str, int]:
    with app.app_context():
        count = sa.func.count()
        return {
            model.__name__: db.session.execute(sa.select(count).select_from(model)).scalar_one()
            for model in (ProcessVersion, GlobalTableVersion, AuditEntry)
        }


def test_every_post_route_of_processes_tables_and_rules_is_403_for_the_auditor(app, login_as, estate):
    routes = _post_routes(app)
    endpoints = {endpoint for endpoint, _url in routes}
    assert {
        *("processes.publish", "processes.import_confirm", "processes.edit", "processes.table_grid"),
        *("processes.edit_checklist", "processes.draft_from", "processes.restore_revision"),
        *("processes.new_step", "processes.new_field", "processes.edit_field", "processes.remove_field"),
        *("processes.move_field", "processes.order_fields", "processes.edit_step", "processes.remove_step"),
        *("processes.new_table", "processes.table_columns", "processes.remove_table"),
        *("tables.new", "tables.edit", "tables.adopt"),
        *("process_rules.new", "process_rules.edit", "process_rules.delete"),
    } <= endpoints
    auditor = login_as("auditor")
    token = auditor.csrf_token("/admin/processes/")
    before = _stored(app)
    answers = {
        endpoint: auditor.post(url, data={"csrf_token": token, "command": "save"}).status_code
        for endpoint, url in routes
        if endpoint not in READ_ONLY_POSTS
    }
    assert answers == dict.fromkeys(answers, 403)
    assert _stored(app) == before


def test_the_auditor_tries_the_rules_and_nothing_is_stored(app, login_as, estate):
    auditor = login_as("auditor")
    auditor.raw.set_cookie("lang", "en")
    try_url = "/admin/processes/deduction/versions/2/try"
    before = _stored(app)
    context = '{"data": {"amount": 30000}, "customer": {"tier": "B"}}'
    response = auditor.post_form(try_url, {"context": context, "run": "Run"}, token_page=try_url)
    assert response.status_code == 200
    assert "Above the tier&#39;s limit" in response.get_data(as_text=True)
    assert _stored(app) == before
