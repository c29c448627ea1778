"""A slow request must not hold the database (issue: on SQLite the health check failed with
"database is locked" while one request ran): reading requests take no write lock, and a
writing request takes it only once its whole body has arrived."""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from formflow.auth import services as auth
from formflow.demo import DEMO_PASSWORD, load_demo
from formflow.extensions import db


def _answers_within(work, seconds: float = 8) -> list:
    """Runs `work` in a thread; its result, or [] when it took longer (a hang detector)."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    return result


def _token(app) -> str:
    with app.app_context():
        token, _record = auth.create_token(auth.find_user("staff"), "test")
        db.session.commit()
    return token


@pytest.mark.live_db
def test_pages_and_the_health_check_answer_while_another_connection_writes(live_app):
    app = live_app
    with app.app_context():
        load_demo(echo=lambda _line: None)
        db.session.commit()
    browser = app.test_client()
    page = browser.get("/auth/login")
    csrf = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', page.get_data(as_text=True))
    form = {"username": "finance", "password": DEMO_PASSWORD, "csrf_token": csrf.group(1)}
    assert browser.post("/auth/login", data=form).status_code == 302
    with app.app_context():
        writer = db.engine.connect()  # another process's long write, holding its lock
        transaction = writer.begin()
        writer.execute(sa.text("UPDATE customer SET name = name WHERE code = 'C001'"))
    try:
        health = _answers_within(lambda: app.test_client().get("/healthz").status_code)
        customer = _answers_within(lambda: browser.get("/customers/C001").status_code)
        cases = _answers_within(lambda: browser.get("/cases/").status_code)
        assert health == [200] and customer == [200] and cases == [200]
    finally:
        transaction.rollback()
        writer.close()


@pytest.mark.live_db
def test_a_slow_upload_holds_no_lock_while_its_body_arrives(live_app):
    app = live_app
    with app.app_context():
        load_demo(echo=lambda _line: None)
        db.session.commit()
    token = _token(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    body = json.dumps({"process": "deduction", "customer": "C001", "data": {"amount": 10}}).encode()
    slow = socket.create_connection(("127.0.0.1", port))
    try:
        head = (
            f"POST /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        slow.sendall(head + body[:10])  # the headers and a little: the rest comes later
        time.sleep(0.5)  # the server has started on the request and waits for the body
        bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        quick = _answers_within(lambda: app.test_client().post("/api/v1/cases", data=body, headers=bearer))
        assert quick and quick[0].status_code == 201
        slow.sendall(body[10:])
        slow.settimeout(10)
        assert b" 201 " in slow.recv(4096).split(b"\r\n", 1)[0] + b" "
    finally:
        slow.close()
        server.shutdown()
