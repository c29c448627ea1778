"""Fixtures: one app per test session on a fresh database (SQLite file or a PostgreSQL
schema of its own, so sessions and xdist workers never meet), each test inside a
transaction that is rolled back, and helpers to log in and post forms with CSRF."""

from __future__ import annotations

import re
import uuid

import pytest
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker
from support import PASSWORD, fresh_database, make_app, migrate_to_head

from formflow.extensions import db


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("app")
    with fresh_database(tmp_path) as database:
        application = make_app(database, tmp_path)
        migrate_to_head(application)
        yield application
        with application.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _rolled_back(request, app):
    """Every session of the test joins one outer transaction that is rolled back.

    No app context stays pushed during the test: each request gets its own, as in production.
    """
    if request.node.get_closest_marker("live_db"):
        yield
        return
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id
    )
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


# --- users and clients -------------------------------------------------------------------


@pytest.fixture
def make_user(app):
    """make_user("alice", roles=["finance"]) -> User (committed to the test transaction)."""
    from formflow.auth import services

    def factory(username: str, roles=("staff",), password: str = PASSWORD, **kwargs):
        with app.app_context():
            user = services.create_user(username, password, list(roles), **kwargs)
            db.session.commit()
            user_id = user.id
        return user_id

    return factory


_CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class Client:
    """The Flask test client plus CSRF-aware form posts and logging in."""

    def __init__(self, flask_client):
        self.raw = flask_client

    def __getattr__(self, name):
        return getattr(self.raw, name)

    def csrf_token(self, page: str = "/auth/login") -> str:
        response = self.raw.get(page, follow_redirects=True)
        match = _CSRF.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, *, token_page: str = "/", **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_page))
        return self.raw.post(url, data=data, **kwargs)

    def login(self, username: str, password: str = PASSWORD, **extra):
        token = self.csrf_token("/auth/login")
        return self.raw.post(
            "/auth/login", data={"username": username, "password": password, "csrf_token": token, **extra}
        )


@pytest.fixture
def client(app) -> Client:
    return Client(app.test_client())


@pytest.fixture
def login_as(app, make_user):
    """login_as("finance") -> a Client logged in as a new user holding that role."""

    def factory(*roles: str) -> Client:
        username = "u-" + "-".join(roles) + "-" + uuid.uuid4().hex[:6]
        make_user(username, roles=roles)
        logged_in = Client(app.test_client())
        response = logged_in.login(username)
        assert response.status_code == 302, response.get_data(as_text=True)
        logged_in.username = username
        return logged_in

    return factory


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["formflow", *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def live_app(tmp_path):
    """An app on a database of its own where commits are real (for threads and servers).

    Use with @pytest.mark.live_db so the rollback fixture stays out of the way.
    """
    with fresh_database(tmp_path) as database:
        application = make_app(database, tmp_path)
        migrate_to_head(application)
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def zh(app):
    """A request in the default language (zh-CN, no cookie)."""
    with app.test_request_context():
        yield


@pytest.fixture
def en(app):
    """A request from a user who chose English (messages asserted in English)."""
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield
