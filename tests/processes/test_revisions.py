"""Drafts that cannot be lost: every save is a revision (who, when, from which editor), undo and
redo by revision, and two admins editing one draft get a conflict, not a silent overwrite."""

from __future__ import annotations

import html
import json
import re

from formflow.extensions import db
from formflow.processes import revisions, services


def _hidden(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1))


def _textarea(page: str) -> str:
    return html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)).strip()


def _edited(page: str, **changes) -> str:
    spec = json.loads(_textarea(page))
    spec.update(changes)
    return json.dumps(spec, ensure_ascii=False)


def _imported(app, make_spec) -> None:
    with app.app_context():
        services.import_spec(make_spec())
        db.session.commit()


def _revisions(app) -> list[tuple[int, str, str]]:
    """(number, source, category) of the draft's revisions, newest first."""
    with app.app_context():
        latest = services.latest_version("deduction")
        return [(r.number, r.source, r.spec["category"]) for r in revisions.of(latest)]


def test_every_save_is_a_revision_with_its_author_and_editor(app, login_as, make_spec):
    _imported(app, make_spec)
    admin = login_as("admin")
    page = admin.get("/admin/processes/deduction/edit").get_data(as_text=True)
    saved = admin.post_form(
        "/admin/processes/deduction/edit",
        {"text": _edited(page, category="other"), "base": _hidden(page, "base")},
    )
    assert saved.status_code == 302
    assert _revisions(app) == [(2, "json", "other"), (1, "import", "deduction")]
    admin.get("/lang/en")
    show = html.unescape(admin.get("/admin/processes/deduction").get_data(as_text=True))
    table = show[show.index('data-testid="revisions"') :]
    assert "JSON editor" in table and "import" in table and "admin" in table


def test_two_admins_on_one_draft_the_second_gets_a_conflict_and_keeps_their_text(app, login_as, make_spec):
    _imported(app, make_spec)
    first, second = login_as("admin"), login_as("admin")  # two people
    first_page = first.get("/admin/processes/deduction/edit").get_data(as_text=True)
    second_page = second.get("/admin/processes/deduction/edit").get_data(as_text=True)
    assert (
        first.post_form(
            "/admin/processes/deduction/edit",
            {"text": _edited(first_page, category="payment"), "base": _hidden(first_page, "base")},
        ).status_code
        == 302
    )

    second.get("/lang/en")
    theirs = _edited(second_page, category="other")
    refused = second.post_form(
        "/admin/processes/deduction/edit", {"text": theirs, "base": _hidden(second_page, "base")}
    )
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    said = html.unescape(body)
    assert f"{first.username} saved version 1" in said and "your changes were not saved" in said
    assert json.loads(_textarea(body))["category"] == "other"  # nothing typed is lost
    with app.app_context():
        assert services.latest_version("deduction").spec["category"] == "payment"
    assert [number for number, *_ in _revisions(app)] == [2, 1]


def test_undo_and_redo_by_revision(app, login_as, make_spec):
    _imported(app, make_spec)
    with app.app_context():
        services.import_spec(make_spec(category="payment"))
        db.session.commit()
        draft = services.latest_version("deduction")
        sha = draft.sha256
    admin = login_as("admin")
    undone = admin.post_form(
        "/admin/processes/deduction/revisions/1/restore", {"number": str(draft.number), "sha256": sha}
    )
    assert undone.status_code == 302
    assert _revisions(app) == [(3, "undo", "deduction"), (2, "import", "payment"), (1, "import", "deduction")]
    with app.app_context():
        sha = services.latest_version("deduction").sha256
    redone = admin.post_form("/admin/processes/deduction/revisions/2/restore", {"number": "1", "sha256": sha})
    assert redone.status_code == 302
    assert _revisions(app)[0] == (4, "undo", "payment")
    stale = admin.post_form("/admin/processes/deduction/revisions/1/restore", {"number": "1", "sha256": sha})
    assert stale.status_code == 409  # the draft moved on since that page was shown
    missing = admin.post_form(
        "/admin/processes/deduction/revisions/99/restore",
        {"number": "1", "sha256": services_sha(app)},
    )
    assert missing.status_code == 404


def services_sha(app) -> str:
    with app.app_context():
        return services.latest_version("deduction").sha256


def test_a_published_version_has_no_revisions_to_restore(app, login_as, make_spec):
    _imported(app, make_spec)
    with app.app_context():
        services.publish("deduction")
        db.session.commit()
    page = login_as("admin").get("/admin/processes/deduction").get_data(as_text=True)
    assert 'data-testid="revisions"' not in page
