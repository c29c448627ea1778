"""Role × route: every route of the app, anonymous and as each role, allowed or 403.

A route missing from ROUTES fails `test_every_route_is_in_the_matrix`: new routes join here.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from formflow.auth import services
from formflow.auth.permissions import ROLES
from formflow.extensions import db

ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
AUDIT = frozenset({"admin", "auditor"})
PUBLIC = None
#: no login and no role: a signature in a header authenticates (unsigned: 400, or 403 when the
#: deployment has no secret for it)
SIGNED = frozenset()
#: no login and no role: the signed self-service token in the URL opens the customer's pages
#: (for anyone, logged in or not; GET 200, a POST without its fields 422)
LINK = frozenset({"self-service link"})
SELFSERVICE = frozenset({"admin", "staff", "finance"})
BLACKLIST = frozenset({"admin", "risk", "manager"})
BILLING = frozenset({"admin", "finance", "manager", "auditor"})
BILLING_MANAGE = frozenset({"admin", "finance", "manager"})
RECONCILE = frozenset({"admin", "finance", "manager", "auditor"})
RECONCILE_MANAGE = frozenset({"admin", "finance"})
PERIODS = frozenset({"admin", "finance", "manager"})

# endpoint -> (method, url template, roles allowed; PUBLIC when no login is needed)
ROUTES = {
    "static": ("GET", "/static/css/app.css", PUBLIC),
    "home.index": ("GET", "/", ALL),
    "home.set_language": ("GET", "/lang/en", PUBLIC),
    "home.healthz": ("GET", "/healthz", PUBLIC),
    "home.dashboard": ("GET", "/dashboard", frozenset({"admin", "finance", "manager", "auditor", "risk"})),
    "auth.login": ("GET", "/auth/login", PUBLIC),
    "auth.change_password": ("GET", "/account/password", ALL),
    "auth.logout": ("POST", "/auth/logout", ALL),
    "admin.users": ("GET", "/admin/users", ADMIN),
    "admin.user_new": ("GET", "/admin/users/new", ADMIN),
    "admin.user_edit": ("GET", "/admin/users/{target}", ADMIN),
    "admin.user_deactivate": ("POST", "/admin/users/{target}/deactivate", ADMIN),
    "admin.user_activate": ("POST", "/admin/users/{target}/activate", ADMIN),
    "admin.user_password": ("POST", "/admin/users/{target}/password", ADMIN),
    "admin.token_create": ("POST", "/admin/users/{target}/tokens", ADMIN),
    "admin.token_revoke": ("POST", "/admin/tokens/{token}/revoke", ADMIN),
    "admin.user_unlock": ("POST", "/admin/users/{target}/unlock", ADMIN),
    # a lock that does not exist: the admin's post is a 404 (lifting one: tests/admin/test_login_locks.py)
    "admin.lock_release": ("POST", "/admin/login-locks/999999999/unlock", ADMIN),
    "audit.index": ("GET", "/audit/", AUDIT),
    "audit.verify": ("GET", "/audit/verify", AUDIT),
    "audit.export": ("GET", "/audit/export.csv", AUDIT),
    "customers.index": ("GET", "/customers/", ALL),
    "customers.show": ("GET", "/customers/{customer}", ALL),
    "ledger.account": ("GET", "/customers/{customer}/account", ALL),
    "ledger.statement": ("GET", "/customers/{customer}/statement", ALL),
    "ledger.account_export": ("GET", "/customers/{customer}/account/export.xlsx", ALL),
    "billing.index": ("GET", "/billing/", BILLING),
    "billing.charges": ("GET", "/billing/charges", BILLING),
    "billing.plan_new": ("GET", "/billing/plans/new", ADMIN),
    "billing.plan_edit": ("GET", "/billing/plans/{plan}/edit", ADMIN),
    "billing.invoice_list": ("GET", "/billing/invoices", BILLING),
    "billing.invoice_export": ("GET", "/billing/invoices/export.csv", BILLING),
    "billing.invoice": ("GET", "/billing/invoices/{invoice}", BILLING),
    "billing.invoice_pdf": ("GET", "/billing/invoices/{invoice}/notice.pdf", BILLING),
    "billing.invoice_void": ("POST", "/billing/invoices/{invoice}/void", BILLING_MANAGE),
    "billing.instalments_propose": ("POST", "/billing/invoices/{invoice}/instalments", BILLING_MANAGE),
    "billing.instalments_approve": (
        "POST",
        "/billing/invoices/{invoice}/instalments/approve",
        BILLING_MANAGE,
    ),
    "billing.instalments_withdraw": (
        "POST",
        "/billing/invoices/{invoice}/instalments/withdraw",
        BILLING_MANAGE,
    ),
    "billing.payment_list": ("GET", "/billing/payments", BILLING),
    "billing.payment_export": ("GET", "/billing/payments/export.xlsx", BILLING),
    "billing.subscription": ("GET", "/billing/subscriptions/{subscription}", BILLING),
    "billing.subscription_change": ("POST", "/billing/subscriptions/{subscription}/change", BILLING_MANAGE),
    "billing.subscription_suspend": ("POST", "/billing/subscriptions/{subscription}/suspend", BILLING_MANAGE),
    "billing.subscription_resume": ("POST", "/billing/subscriptions/{subscription}/resume", BILLING_MANAGE),
    "billing.webhook_log": ("GET", "/billing/webhooks", BILLING),
    "customers.search": ("GET", "/customers/search?q=M0", frozenset({"admin", "staff"})),
    "reconcile.index": ("GET", "/reconcile/", RECONCILE),
    "reconcile.lines": ("GET", "/reconcile/lines?status=unmatched", RECONCILE),
    "reconcile.line": ("GET", "/reconcile/lines/{bank_line}", RECONCILE),
    "reconcile.line_export": ("GET", "/reconcile/lines/export.csv?status=unmatched", RECONCILE),
    "reconcile.auto_match": ("POST", "/reconcile/match", RECONCILE_MANAGE),
    "reconcile.match_invoices": ("POST", "/reconcile/lines/{bank_line}/match-invoices", RECONCILE_MANAGE),
    "reconcile.match_customer": ("POST", "/reconcile/lines/{bank_line}/match-customer", RECONCILE_MANAGE),
    "reconcile.link_payment": ("POST", "/reconcile/lines/{bank_line}/link-payment", RECONCILE_MANAGE),
    "reconcile.explain": ("POST", "/reconcile/lines/{bank_line}/explain", RECONCILE_MANAGE),
    "reconcile.unmatch": ("POST", "/reconcile/lines/{bank_line}/unmatch", RECONCILE_MANAGE),
    "reconcile.account_new": ("GET", "/reconcile/accounts/new", RECONCILE_MANAGE),
    "reconcile.account_edit": ("GET", "/reconcile/accounts/{bank_account}/edit", RECONCILE_MANAGE),
    "reconcile.import_statement": ("GET", "/reconcile/import", RECONCILE_MANAGE),
    "reconcile.import_preview": ("GET", "/reconcile/imports/{bank_import}", RECONCILE_MANAGE),
    "reconcile.import_confirm": ("POST", "/reconcile/imports/{bank_import}/confirm", RECONCILE_MANAGE),
    "reconcile.period": ("GET", "/reconcile/periods/2026-11", RECONCILE),
    "reconcile.period_close": ("POST", "/reconcile/periods/2026-11/close", PERIODS),
    "reconcile.period_reopen_request": ("POST", "/reconcile/periods/2026-11/reopen-request", PERIODS),
    "reconcile.period_reopen_approve": ("POST", "/reconcile/periods/2026-11/reopen-approve", PERIODS),
    "selfservice.home": ("GET", "/s/{ss_token}", LINK),
    "selfservice.entries": ("GET", "/s/{ss_token}/entries", LINK),
    "selfservice.statement": ("GET", "/s/{ss_token}/statement", LINK),
    "selfservice.dispute": ("POST", "/s/{ss_token}/dispute", LINK),
    "selfservice.appeal": ("POST", "/s/{ss_token}/appeal", LINK),
    "selfservice_links.create": ("POST", "/customers/{customer}/self-service-links", SELFSERVICE),
    # a second link of M001's, so revoking it leaves the one the customer's pages open
    "selfservice_links.revoke": (
        "POST",
        "/customers/{customer}/self-service-links/{ss_link}/revoke",
        SELFSERVICE,
    ),
    "customers.export": ("GET", "/customers/export.csv", ALL),
    "customers.new": ("GET", "/customers/new", frozenset({"admin", "staff"})),
    "customers.edit": ("GET", "/customers/{customer}/edit", frozenset({"admin", "staff"})),
    "customers.change_status": ("POST", "/customers/{customer}/status", frozenset({"admin", "staff"})),
    "customers.blacklist": ("POST", "/customers/{customer}/blacklist", BLACKLIST),
    "customers.tier_list": ("GET", "/customers/tiers", ADMIN),
    "customers.import_file": ("GET", "/customers/import", frozenset({"admin", "staff"})),
    "api.openapi": ("GET", "/api/v1/openapi.json", PUBLIC),
    "api.payment_webhook": ("POST", "/api/v1/webhooks/payments", SIGNED),
    "api.me": ("GET", "/api/v1/me", ALL),
    "api.customer": ("GET", "/api/v1/customers/{customer}", ALL),
    "api.customer_create": ("POST", "/api/v1/customers", frozenset({"admin", "staff"})),
    "api.customers_list": ("GET", "/api/v1/customers", ALL),
    "api.customer_update": ("PATCH", "/api/v1/customers/{customer}", frozenset({"admin", "staff"})),
    "api.customer_entries": ("GET", "/api/v1/customers/{customer}/entries", ALL),
    "api.ledger_post": ("POST", "/api/v1/ledger/postings", frozenset({"admin", "finance"})),
    "processes.index": ("GET", "/admin/processes/", AUDIT),
    "processes.import_start": ("GET", "/admin/processes/import", ADMIN),
    "processes.import_confirm": ("POST", "/admin/processes/import/confirm", ADMIN),
    "processes.show": ("GET", "/admin/processes/{process}", AUDIT),
    "processes.version": ("GET", "/admin/processes/{process}/versions/1", AUDIT),
    "processes.try_rules": ("GET", "/admin/processes/{process}/versions/1/try", AUDIT),
    "processes.export": ("GET", "/admin/processes/{process}/export", AUDIT),
    "processes.edit": ("GET", "/admin/processes/{process}/edit", ADMIN),
    "processes.publish": ("POST", "/admin/processes/{process}/publish", ADMIN),
    "processes.table_grid": ("GET", "/admin/processes/{process}/tables/matrix_limits", ADMIN),
    "processes.whatif": ("GET", "/admin/processes/{process}/whatif", AUDIT),
    "processes.compare": ("GET", "/admin/processes/{process}/compare", AUDIT),
    "processes.draft_from": ("POST", "/admin/processes/{process}/versions/1/draft", ADMIN),
    "processes.restore_revision": ("POST", "/admin/processes/{process}/revisions/1/restore", ADMIN),
    "processes.edit_checklist": ("GET", "/admin/processes/{process}/checklists/draft", ADMIN),
    "processes.gallery_index": ("GET", "/admin/processes/gallery", AUDIT),
    "processes.gallery_template": ("GET", "/admin/processes/gallery/deduction", AUDIT),
    "processes.new_step": ("GET", "/admin/processes/{process}/steps/new", ADMIN),
    "processes.new_field": ("GET", "/admin/processes/{process}/fields/new", ADMIN),
    "processes.form_designer": ("GET", "/admin/processes/{process}/form", ADMIN),
    "processes.edit_step": ("GET", "/admin/processes/{process}/steps/draft/edit", ADMIN),
    "processes.new_table": ("GET", "/admin/processes/{process}/tables/new", ADMIN),
    "processes.table_columns": ("GET", "/admin/processes/{process}/tables/matrix_limits/columns", ADMIN),
    "processes.remove_table": ("POST", "/admin/processes/{process}/tables/matrix_limits/remove", ADMIN),
    "processes.remove_step": ("POST", "/admin/processes/{process}/steps/draft/remove", ADMIN),
    "processes.edit_field": ("GET", "/admin/processes/{process}/fields/note/edit", ADMIN),
    "processes.remove_field": ("POST", "/admin/processes/{process}/fields/note/remove", ADMIN),
    "processes.move_field": ("POST", "/admin/processes/{process}/fields/note/move", ADMIN),
    "processes.order_fields": ("POST", "/admin/processes/{process}/form/order", ADMIN),
    "tables.index": ("GET", "/admin/tables/", AUDIT),
    "tables.new": ("GET", "/admin/tables/new", ADMIN),
    "tables.show": ("GET", "/admin/tables/{table}", AUDIT),
    "tables.version": ("GET", "/admin/tables/{table}/versions/1", AUDIT),
    "tables.edit": ("GET", "/admin/tables/{table}/edit", ADMIN),
    "tables.adopt": ("POST", "/admin/tables/{table}/adopt", ADMIN),
    "process_rules.index": ("GET", "/admin/processes/{process}/rules/", AUDIT),
    "process_rules.new": ("GET", "/admin/processes/{process}/rules/new", ADMIN),
    "process_rules.edit": ("GET", "/admin/processes/{process}/rules/matrix-rule/edit", ADMIN),
    # a rule that does not exist: the admin's post is a 404, nothing is deleted under the other routes
    "process_rules.delete": ("POST", "/admin/processes/{process}/rules/no-such-rule/delete", ADMIN),
    "api.processes": ("GET", "/api/v1/processes", ALL),
    "api.process": ("GET", "/api/v1/processes/{process}", AUDIT),
    "api.process_import": ("POST", "/api/v1/processes", ADMIN),
    "api.process_publish": ("POST", "/api/v1/processes/{process}/publish", ADMIN),
    "cases.index": ("GET", "/cases/", ALL),
    "cases.export": ("GET", "/cases/export.xlsx", ALL),
    "notices.index": ("GET", "/notices/", ALL),
    "notices.export": ("GET", "/notices/export.xlsx", ALL),
    "cases.new": ("GET", "/cases/new", frozenset({"admin", "staff"})),
    # The target case is another staff member's draft: only an admin may read or edit it
    # (its creator may too: tests/cases/test_views.py; who reads what: tests/cases/test_visibility.py).
    "cases.show": ("GET", "/cases/{case}", ADMIN),
    "cases.edit": ("GET", "/cases/{case}/edit", ADMIN),
    "cases.attachment": ("GET", "/cases/attachments/{attachment}", ADMIN),
    "api.case_create": ("POST", "/api/v1/cases", frozenset({"admin", "staff"})),
    "api.case": ("GET", "/api/v1/cases/{case}", ADMIN),
    "api.case_explain": ("GET", "/api/v1/cases/{case}/explain", ADMIN),
    # the target case has no workflow, hence no checklist: 404 for everyone who may read it
    # (who may tick is the engine's call: tests/workflows/test_checklists.py)
    "checklists.tick": ("POST", "/cases/{case}/checklist/no-such-item", ADMIN),
    # workflow: the engine decides per action; the target case has no workflow, so an
    # allowed role gets the case page / JSON with a 422, never a 403
    "workflow.inbox": ("GET", "/inbox", ALL),
    "workflow.bulk_approve": ("POST", "/inbox/bulk-approve", ALL),
    "workflow.delegations": ("GET", "/delegations", ALL),
    "workflow.delegation_revoke": ("POST", "/delegations/999999999/revoke", ALL),
    "workflow.act": ("POST", "/cases/{case}/actions/submit", ADMIN),
    "workflow.reassign": ("POST", "/cases/{case}/reassign", ADMIN),
    "api.case_action": ("POST", "/api/v1/cases/{case}/actions/submit", ADMIN),
    "api.attachment_create": ("POST", "/api/v1/attachments", frozenset({"admin", "staff"})),
    # notifications: everyone has their own; another's (or none) is a 404, never a 403
    "notifications.index": ("GET", "/notifications/", ALL),
    "notifications.read": ("POST", "/notifications/999999999/read", ALL),
    "notifications.read_all": ("POST", "/notifications/read-all", ALL),
}


MATRIX_PROCESS = {
    "formflow": 1,
    "key": "matrix_process",
    "category": "other",
    "name": {"zh-CN": "矩阵流程", "en": "Matrix process"},
    "form": {"schema": {"type": "object", "properties": {"note": {"type": "string"}}}},
    "tables": [{"key": "matrix_limits", "columns": ["tier", "limit"], "rows": [["A", 1]]}],
    "rules": [{"id": "matrix-rule", "kind": "visible", "field": "/note", "when": {"!!": [True]}}],
    "workflow": {
        "start": "draft",
        "states": {
            "draft": {"kind": "form", "actions": {"submit": {"to": "done", "roles": ["staff"]}}},
            "done": {"kind": "final"},
        },
    },
}


MATRIX_CASE_PROCESS = {
    "formflow": 1,
    "key": "matrix_case",
    "category": "other",
    "name": {"zh-CN": "矩阵案件", "en": "Matrix case"},
    "form": {
        "schema": {"type": "object", "properties": {"file": {"type": "string", "maxLength": 64}}},
        "uiSchema": {"file": {"ui:widget": "file"}},
    },
}


def _case_targets(owner) -> dict:
    """A draft case of `owner` (staff) with an attachment on it."""
    import io

    from werkzeug.datastructures import FileStorage

    from formflow.cases import services as cases
    from formflow.cases import uploads
    from formflow.processes import services as processes

    processes.import_spec(MATRIX_CASE_PROCESS)
    processes.publish(MATRIX_CASE_PROCESS["key"])
    upload = FileStorage(io.BytesIO(b"matrix"), "matrix.txt", content_type="text/plain")
    token = uploads.store_upload("/file", upload, {}, actor=owner)
    case = cases.start(MATRIX_CASE_PROCESS["key"], "M001", {"file": token}, submit=False, actor=owner)
    return {"case": case.id, "attachment": token}


@pytest.fixture
def targets(app, make_user):
    from formflow.customers import services as customers

    target = make_user("matrix-target", roles=["staff"])
    with app.app_context():
        customer = customers.create("M001", "Matrix Ltd", "B")
        from decimal import Decimal

        from formflow.billing import invoices, plans

        owed = invoices.issue(
            customer, [invoices.Item("矩阵", Decimal("10.00"))], issue_date=date(2026, 1, 1)
        )
        _plain, token = services.create_token(services.get_user(target), "matrix")
        from formflow.processes import services as processes

        processes.import_spec(MATRIX_PROCESS)
        from formflow import tables

        tables.create_global_table(
            "matrix_table", {"zh-CN": "矩阵表", "en": "Matrix table"}, [{"name": "k"}], "k"
        )
        case_targets = _case_targets(services.get_user(target))
        fee = {"id": "fee", "title": {"zh-CN": "费", "en": "Fee"}, "when": "signing", "amount": "1.00"}
        plan_key = plans.save_plan(
            "matrix_plan", {"zh-CN": "矩阵方案", "en": "Matrix plan"}, {"items": [fee]}
        ).plan.key
        subscription = plans.subscribe(customer, plan_key, date.today())
        reconcile = _reconcile_targets()
        from formflow.selfservice import links

        ss_token = links.token_for(links.create(customer, 30, actor=None))
        ss_link = links.create(customer, 30, actor=None).id
        db.session.commit()
        return {
            "target": target,
            "token": token.id,
            "customer": "M001",
            "process": MATRIX_PROCESS["key"],
            "table": "matrix_table",
            "invoice": owed.number,
            "plan": plan_key,
            "subscription": subscription.id,
            **reconcile,
            "ss_token": ss_token,
            "ss_link": ss_link,
            **case_targets,
        }


def _reconcile_targets() -> dict:
    """A bank account, a statement line of money received (unmatched), a previewed import."""
    from formflow.reconcile import importing
    from formflow.reconcile.models import BankLine

    account = importing.save_account(
        None, "矩阵银行", "", "", {"date": "日期", "amount": "金额", "memo": "摘要"}, actor=None
    )
    first = importing.preview(
        account, "a.csv", "日期,金额,摘要\n2026-11-03,10.00,M001\n".encode(), actor=None
    )
    importing.confirm(first.upload, actor=None)
    line = db.session.execute(sa.select(BankLine.id)).scalar_one()
    second = importing.preview(account, "b.csv", "日期,金额,摘要\n2026-11-04,5.00,x\n".encode(), actor=None)
    return {"bank_account": account.id, "bank_line": line, "bank_import": second.upload.id}


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ROUTES), "add new routes to ROUTES with the roles allowed"


def _request(client, method, url, bearer=None):
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    if method == "GET":
        return client.raw.get(url, headers=headers)
    if url.startswith("/api/"):
        return client.raw.open(url, method=method, json={}, headers=headers)
    return client.post_form(url, {}, token_page="/auth/login" if bearer is None else "/")


def test_anonymous_is_sent_to_login_or_gets_401(client, targets):
    wrong = []
    for endpoint, (method, url, allowed) in ROUTES.items():
        response = _request(client, method, url.format(**targets))
        if allowed is PUBLIC:
            ok = response.status_code in (200, 302)
        elif allowed is LINK:
            ok = response.status_code == (200 if method == "GET" else 422)
        elif allowed is SIGNED:
            ok = response.status_code in (400, 403) and response.json["errors"][0]["message"]
        elif url.startswith("/api/"):
            ok = response.status_code == 401 and response.json["errors"][0]["message"]
        else:
            ok = response.status_code == 302 and "/auth/login" in response.headers["Location"]
        response.close()
        if not ok:
            wrong.append((endpoint, response.status_code))
    assert wrong == []


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_is_allowed_or_forbidden(app, login_as, targets, role):
    client = login_as(role)
    with app.app_context():
        user = services.find_user(client.username)
        bearer, _token = services.create_token(user, "matrix")
        db.session.commit()
    wrong = []
    # logout last: it ends the session the other requests use
    for endpoint, (method, url, allowed) in sorted(ROUTES.items(), key=lambda item: item[0] == "auth.logout"):
        is_api = url.startswith("/api/")
        response = _request(client, method, url.format(**targets), bearer if is_api else None)
        if allowed is SIGNED:  # a login or a token is no signature
            ok = response.status_code in (400, 403)
        elif allowed is LINK:  # the link opens the pages whoever is logged in
            ok = response.status_code == (200 if method == "GET" else 422)
        elif allowed is PUBLIC or role in allowed:
            ok = response.status_code not in (401, 403) and response.status_code < 500
            if method == "GET" and endpoint not in ("home.set_language", "auth.login"):
                ok = response.status_code == 200
        else:
            ok = response.status_code == 403
        response.close()
        if not ok:
            wrong.append((endpoint, method, response.status_code))
    assert wrong == []
