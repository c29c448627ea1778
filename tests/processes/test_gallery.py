"""The template gallery: configs/ as cards, a preview, an import under a key of one's own, and
the semantic diff first when the key is taken."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from formflow.extensions import db
from formflow.processes import revisions, services

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else ""


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_gallery_shows_every_template_as_a_card(login_as):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = html.unescape(admin.get("/admin/processes/gallery").get_data(as_text=True))
    for path in CONFIGS.glob("*.json"):
        spec = json.loads(path.read_text(encoding="utf-8"))
        assert spec["name"]["en"] in page and f"/admin/processes/gallery/{path.stem}" in page
    card = page[page.index('id="card-offboarding"') :][:1500]
    assert "Offboarding" in card and "checklist items" in card and "approval" in card
    chinese = html.unescape(login_as("auditor").get("/admin/processes/gallery").get_data(as_text=True))
    assert "客户清退" in chinese and "个字段" in chinese


def test_import_under_a_new_key_creates_a_draft(app, login_as):
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get("/admin/processes/gallery/prepaid_topup?key=topup_east").get_data(as_text=True)
    assert "No process has the key topup_east" in _text(page)
    made = admin.post_form("/admin/processes/gallery/prepaid_topup", {"key": "topup_east", "base": ""})
    assert made.status_code == 302 and made.headers["Location"].endswith("/admin/processes/topup_east")
    with app.app_context():
        version = services.latest_version("topup_east")
        shipped = json.loads((CONFIGS / "prepaid_topup.json").read_text(encoding="utf-8"))
        assert version.status == "draft" and version.spec == {**shipped, "key": "topup_east"}
        assert revisions.of(version)[0].source == "gallery"
    shown = html.unescape(admin.get("/admin/processes/topup_east").get_data(as_text=True))
    assert "Imported as the new process topup_east, draft version 1" in shown


def test_a_taken_key_shows_the_changes_and_imports_only_what_was_reviewed(app, login_as):
    mine = json.loads((CONFIGS / "deduction.json").read_text(encoding="utf-8"))
    mine["form"]["schema"]["properties"]["amount"]["maximum"] = 5000
    with app.app_context():
        services.import_spec(mine)
        services.publish("deduction")
        db.session.commit()
    admin = login_as("admin")
    admin.get("/lang/en")
    page = admin.get("/admin/processes/gallery/deduction").get_data(as_text=True)  # its own key first
    said = _text(page)
    assert "A process has the key deduction (version 1, published)" in said
    assert "maximum 5000 → —" in said  # the semantic diff against what is there
    base = _hidden(page, "base")
    assert len(base) == 64
    blind = admin.post_form("/admin/processes/gallery/deduction", {"key": "deduction", "base": ""})
    assert blind.status_code == 422 and "review the changes first" in html.unescape(
        blind.get_data(as_text=True)
    )
    done = admin.post_form("/admin/processes/gallery/deduction", {"key": "deduction", "base": base})
    assert done.status_code == 302
    with app.app_context():
        assert services.latest_version("deduction").number == 2
        assert (
            "maximum"
            not in services.latest_version("deduction").spec["form"]["schema"]["properties"]["amount"]
        )
    stale = admin.post_form("/admin/processes/gallery/deduction", {"key": "deduction", "base": base})
    assert stale.status_code == 409  # the reviewed version is no longer the latest


@pytest.mark.parametrize("key", ["Bad Key", "x", "1abc", "a" * 81])
def test_a_bad_key_is_refused_at_the_key_field(app, login_as, key):
    admin = login_as("admin")
    admin.get("/lang/en")
    refused = admin.post_form("/admin/processes/gallery/deduction", {"key": key, "base": ""})
    assert refused.status_code == 422
    body = html.unescape(refused.get_data(as_text=True))
    assert 'aria-describedby="key-error"' in body and re.search(r'id="key-error"[^>]*>[^<]+', body)
    with app.app_context():
        assert services.find_process(key) is None


def test_unknown_templates_and_rights(login_as):
    assert login_as("admin").get("/admin/processes/gallery/nope").status_code == 404
    assert login_as("admin").get("/admin/processes/gallery/..%2Fsecret").status_code == 404
    auditor = login_as("auditor")
    assert auditor.get("/admin/processes/gallery/deduction").status_code == 200
    assert auditor.post_form("/admin/processes/gallery/deduction", {"key": "mine_x"}).status_code == 403
    assert login_as("staff").get("/admin/processes/gallery").status_code == 403
