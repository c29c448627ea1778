"""The notifications page: mine and my roles', newest first, paginated; mark read; the
unread count in the navigation."""

from __future__ import annotations

import re

import pytest
from workflows.effects_support import new_case, publish_with, world

from formflow.auth import services as auth
from formflow.extensions import db
from formflow.workflows.models import Notification


@pytest.fixture
def add(app):
    """add(username=None, role=None, subject=...) -> id of a committed notification."""

    def factory(username=None, role=None, subject="提醒", body="", case_id=None):
        with app.app_context():
            user = auth.find_user(username) if username else None
            row = Notification(user_id=user.id if user else None, role=role, subject=subject, body=body,
                               case_id=case_id)  # fmt: skip
            db.session.add(row)
            db.session.commit()
            return row.id

    return factory


def _nav_count(html: str) -> int | None:
    match = re.search(r'href="/notifications/"[^>]*>[^<]*<span class="badge nav-count">(\d+)</span>', html)
    return int(match.group(1)) if match else None


def _read_at(app, notification_id):
    with app.app_context():
        return db.session.get(Notification, notification_id).read_at


def test_my_notifications_and_my_roles_newest_first(app, login_as, add, make_user):
    me = login_as("finance")
    make_user("someone-else", roles=["staff"])
    add(me.username, subject="first <b>for me</b>")
    add(role="finance", subject="second, for the finance role")
    add(me.username, subject="third", body="line one\nline <two>")
    add("someone-else", subject="not mine")
    add(role="staff", subject="not my role")
    html = me.get("/notifications/").get_data(as_text=True)
    subjects = re.findall(r"<strong>(.*?)</strong>", html)
    assert subjects[-3:] == ["third", "second, for the finance role", "first &lt;b&gt;for me&lt;/b&gt;"]
    assert "not mine" not in html and "not my role" not in html
    assert "line one<br>line &lt;two&gt;" in html
    assert _nav_count(html) == 3


def test_mark_one_read_then_all(app, login_as, add):
    me = login_as("staff")
    first, second = add(me.username, subject="a"), add(me.username, subject="b")
    response = me.post_form(f"/notifications/{first}/read")
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications/")
    assert _read_at(app, first) is not None and _read_at(app, second) is None
    assert _nav_count(me.get("/notifications/").get_data(as_text=True)) == 1
    response = me.post_form("/notifications/read-all", follow_redirects=True)
    assert response.status_code == 200 and _read_at(app, second) is not None
    assert _nav_count(response.get_data(as_text=True)) is None  # no badge at zero


def test_open_marks_read_and_goes_to_the_case(app, login_as, add):
    me = login_as("staff")
    with app.app_context():
        publish_with({"executed": {}})
        case_id = new_case(world()["staff"]).id
    notification = add(me.username, subject="see case", case_id=case_id)
    response = me.post_form(f"/notifications/{notification}/read", {"open": "1"})
    assert response.headers["Location"].endswith(f"/cases/{case_id}")
    assert _read_at(app, notification) is not None
    other = add(me.username, subject="elsewhere")
    response = me.post_form(f"/notifications/{other}/read", {"next": "https://evil.test/"})
    assert response.headers["Location"].endswith("/notifications/")  # no open redirect


def test_someone_elses_notification_is_not_found(app, login_as, add, make_user):
    make_user("owner-1", roles=["finance"])
    theirs = add("owner-1", subject="private")
    intruder = login_as("finance")
    assert intruder.post_form(f"/notifications/{theirs}/read").status_code == 404
    assert _read_at(app, theirs) is None
    assert intruder.post_form("/notifications/99999999999999999999/read").status_code == 404


def test_the_list_paginates(app, login_as, add, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    me = login_as("auditor")
    for number in range(3):
        add(me.username, subject=f"n{number}")
    html = me.get("/notifications/").get_data(as_text=True)
    assert re.findall(r"<strong>(n\d)</strong>", html) == ["n2", "n1"]
    older = re.search(r'href="(/notifications/\?before=\d+)"', html).group(1)
    assert re.findall(r"<strong>(n\d)</strong>", me.get(older).get_data(as_text=True)) == ["n0"]


def test_every_role_sees_the_navigation_item(app, login_as):
    for role in ("admin", "staff", "finance", "manager", "risk", "auditor"):
        html = login_as(role).get("/").get_data(as_text=True)
        assert 'href="/notifications/"' in html


def test_anonymous_is_sent_to_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
