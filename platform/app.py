"""The application factory."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from flask import Flask, g, request
from flask_login import current_user

import formflow.database  # noqa: F401  (engine events: SQLite pragmas and BEGIN IMMEDIATE)
from formflow import config as settings
from formflow import inputguard
from formflow.errorpages import register_error_handlers
from formflow.exactjson import ExactJSONProvider
from formflow.extensions import babel, csrf, db, login_manager, migrate
from formflow.i18n import html_lang, join_list, select_locale

PACKAGE_DIR = Path(__file__).resolve().parent
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings from FORMFLOW_* env vars, then `config` on top."""
    config = dict(config or {})
    instance_path = Path(config.pop("INSTANCE_DIR", None) or settings.instance_path())
    loaded = settings.settings_from_env(instance_path, secret_key=config.get("SECRET_KEY"))
    loaded.update(config)
    app = Flask(
        "formflow",
        root_path=str(PACKAGE_DIR),
        instance_path=str(instance_path),
        instance_relative_config=True,
        template_folder=loaded["TEMPLATE_DIR"],
        static_folder=str(PACKAGE_DIR / "static"),
    )
    app.json = ExactJSONProvider(app)
    app.config.update(settings.DEFAULTS)
    app.config.update(loaded)
    instance_path.mkdir(parents=True, exist_ok=True)

    _init_extensions(app)
    _register_effects()
    _register_permission_rules()
    _register_customer_sections()
    _register_exports()
    inputguard.register(app)  # before the routes: NUL, surrogates and ids past INTEGER refused
    _register_blueprints(app)
    register_error_handlers(app)
    _register_request_hooks(app)
    _register_template_helpers(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from formflow.auth.services import load_session_user

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIR"], render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.user_loader(load_session_user)
    login_manager.id_attribute = "session_identity"  # the cookie names a server-side session
    login_manager.session_protection = "basic"
    # Import every model so metadata (and Alembic) sees them all.
    import formflow.models  # noqa: F401


def _register_effects() -> None:
    """The packages with workflow effects register them in formflow.effects on import: the
    registry is full whenever an app exists (server, CLI, tests). A new one is added here."""
    from formflow.billing import effects as _billing  # noqa: F401  (billing.subscribe, .register_payment)
    from formflow.cases import effects  # noqa: F401  (set_field, customer.set_status, start_case)
    from formflow.ledger import effects as _ledger  # noqa: F401  (ledger.post)
    from formflow.workflows import notify, webhooks  # noqa: F401


def _register_permission_rules() -> None:
    """The packages that own objects register their object rules (who reads a case, who edits
    it) in formflow.auth.permissions on import, as effects do. A new one is added here."""
    from formflow.cases import permission_rules as _cases  # noqa: F401
    from formflow.workflows import permission_rules as _workflows  # noqa: F401


def _register_customer_sections() -> None:
    """The customer page's sections from packages above customers (customers.page_sections)."""
    from formflow.billing import customer_section as _billing  # noqa: F401  (fee subscriptions, charges)
    from formflow.cases import customer_sections as _cases  # noqa: F401  (cases, notices)
    from formflow.ledger import customer_section as _ledger  # noqa: F401  (balances, entries)
    from formflow.selfservice import customer_section as _selfservice  # noqa: F401  (self-service links)


def _register_exports() -> None:
    """The lists that export register themselves in formflow.tabular on import (the export
    routes, `formflow export-list`); a new one is added here."""
    from formflow.audit import exporting as _audit  # noqa: F401  (audit)
    from formflow.billing import listing as _billing  # noqa: F401  (invoices, payments)
    from formflow.cases import export as _cases  # noqa: F401  (cases)
    from formflow.cases import notice_list as _notices  # noqa: F401  (notices)
    from formflow.customers import exporting as _customers  # noqa: F401  (customers)
    from formflow.ledger import exporting as _ledger  # noqa: F401  (entries)
    from formflow.reconcile import exporting as _bank_lines  # noqa: F401  (bank lines)


def _register_blueprints(app: Flask) -> None:
    from formflow.admin.audit_views import bp as audit_bp
    from formflow.admin.table_views import bp as tables_bp
    from formflow.admin.views import bp as admin_bp
    from formflow.api.views import bp as api_bp
    from formflow.auth.views import bp as auth_bp
    from formflow.billing import invoice_views as _invoices  # noqa: F401  (routes on billing_bp)
    from formflow.billing import subscription_views as _subscriptions  # noqa: F401  (routes on billing_bp)
    from formflow.billing.views import bp as billing_bp
    from formflow.cases.checklist_views import bp as checklists_bp
    from formflow.cases.notice_views import bp as notices_bp
    from formflow.cases.views import bp as cases_bp
    from formflow.cases.workflow_views import bp as workflow_bp
    from formflow.customers.views import bp as customers_bp
    from formflow.home.views import bp as home_bp
    from formflow.ledger.views import bp as ledger_bp
    from formflow.processes import checklist_views as _checklists  # noqa: F401  (routes on processes_bp)
    from formflow.processes import field_views as _fields  # noqa: F401  (routes on processes_bp)
    from formflow.processes import gallery_views as _gallery  # noqa: F401  (routes on processes_bp)
    from formflow.processes import state_views as _states  # noqa: F401  (routes on processes_bp)
    from formflow.processes import step_views as _steps  # noqa: F401  (routes on processes_bp)
    from formflow.processes import table_structure_views as _table_structure  # noqa: F401  (routes on processes_bp)
    from formflow.processes.rule_builder_views import bp as rules_builder_bp
    from formflow.processes.views import bp as processes_bp
    from formflow.reconcile import import_views as _reconcile_imports  # noqa: F401  (routes on reconcile_bp)
    from formflow.reconcile import period_views as _reconcile_periods  # noqa: F401  (routes on reconcile_bp)
    from formflow.reconcile.views import bp as reconcile_bp
    from formflow.selfservice.staff_views import bp as selfservice_links_bp
    from formflow.selfservice.views import bp as selfservice_bp
    from formflow.trials import views as _trials  # noqa: F401  (its routes are on processes_bp)
    from formflow.workflows.notifications_views import bp as notifications_bp

    blueprints = (home_bp, auth_bp, admin_bp, audit_bp, customers_bp, processes_bp, cases_bp, api_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(tables_bp)  # global parameter tables (formflow/admin/table_views.py)
    app.register_blueprint(rules_builder_bp)  # a process's rules (formflow/processes/rule_builder_views.py)
    app.register_blueprint(workflow_bp)  # inbox, delegations, case actions (formflow/cases/workflow_views.py)
    app.register_blueprint(checklists_bp)  # ticking checklists (formflow/cases/checklist_views.py)
    app.register_blueprint(notifications_bp)  # mine, mark read (workflows/notifications_views.py)
    app.register_blueprint(ledger_bp)  # a customer's balances, entries, statements (ledger/views.py)
    app.register_blueprint(billing_bp)  # fee plans and the charges grid (billing/views.py)
    app.register_blueprint(reconcile_bp)  # bank statements, matching, the month close (reconcile/views.py)
    app.register_blueprint(notices_bp)  # every notice sent to customers (cases/notice_views.py)
    app.register_blueprint(selfservice_bp)  # the customer's pages, no login (selfservice/views.py)
    app.register_blueprint(selfservice_links_bp)  # staff make and revoke them (selfservice/staff_views.py)
    # The API authenticates by bearer token only and never by cookie: no CSRF there.
    csrf.exempt(api_bp)


def _register_request_hooks(app: Flask) -> None:
    from formflow.auth.current import acting_user

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def security_headers(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.path.startswith("/api/") or (request.endpoint != "static" and acting_user()):
            response.headers["Cache-Control"] = "no-store"  # no copy of a user's page in any cache
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        return response


def _register_template_helpers(app: Flask) -> None:
    from formflow.auth.permissions import ROLES, can
    from formflow.forms.display import money_text
    from formflow.navigation import nav_items
    from formflow.records.uploads import size_text

    # an amount with two places and grouping (1,234.50); anything else as it is
    app.add_template_filter(lambda value: money_text(value) or ("—" if value is None else value), "money")

    # sizes in the user's language (Jinja's own filesizeformat says "Bytes" in every one)
    app.add_template_filter(lambda size, binary=True: size_text(size), "filesizeformat")
    # a list of labels as the user's language writes one (甲、乙和丙 / A, B, and C)
    app.add_template_filter(join_list, "join_list")

    @app.context_processor
    def inject_helpers() -> dict:
        locale = select_locale()
        return {
            "can": lambda permission, obj=None: can(current_user, permission, obj),
            "role_labels": ROLES,
            "languages": app.config["LANGUAGES"],
            "current_locale": locale,
            "html_lang": html_lang(locale),
            "nav_items": nav_items,
        }


def _register_cli(app: Flask) -> None:
    from formflow.cli import formflow_group

    app.cli.add_command(formflow_group)
