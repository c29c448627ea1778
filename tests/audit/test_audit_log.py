"""The audit log: hash chain, `audit verify` catching edits, deletions and reordering,
browsing with filters and pagination, CSV export."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from audit.tamper_support import drop_guards

from formflow import audit
from formflow.audit.models import AuditEntry
from formflow.extensions import db


@pytest.fixture
def five_entries(app):
    with app.app_context():
        for n in range(1, 6):
            audit.record(
                f"test.step{n}", "thing", n, before={"n": n - 1}, after={"n": n, "amount": Decimal("1.10")}
            )
        db.session.commit()


def _sql(app, statement: str, **params) -> None:
    with app.app_context():
        db.session.execute(sa.text(statement), params)
        db.session.commit()


def test_entries_chain_by_hash(app, five_entries):
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0].prev_hash == "0" * 64
        assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 5))
        assert rows[2].after == {"n": 3, "amount": "1.10"}  # Decimal kept exact, as text
        assert rows[0].actor_name == "system"


def test_verify_passes_on_an_intact_log(cli, five_entries):
    result = cli("audit", "verify")
    assert result.exit_code == 0
    assert "5 audit entries" in result.output


@pytest.mark.parametrize(
    ("tamper", "bad_seq"),
    [
        ("UPDATE audit_entry SET after = '{\"n\": 99}' WHERE seq = 3", 3),  # edited content
        ("UPDATE audit_entry SET actor_name = 'mallory' WHERE seq = 2", 2),  # edited actor
        ("DELETE FROM audit_entry WHERE seq = 3", 4),  # deleted from the middle
        ("DELETE FROM audit_entry WHERE seq = 5", 5),  # cut from the end
    ],
)
def test_verify_names_the_first_bad_row(app, cli, five_entries, tamper, bad_seq):
    drop_guards(app)  # as someone with the database's owner rights would
    _sql(app, tamper)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"seq {bad_seq}" in result.output


def test_verify_catches_reordered_rows(app, cli, five_entries):
    # swap rows 2 and 4 (seq is unique, so go through a free value)
    drop_guards(app)
    _sql(app, "UPDATE audit_entry SET seq = 1000 WHERE seq = 2")
    _sql(app, "UPDATE audit_entry SET seq = 2 WHERE seq = 4")
    _sql(app, "UPDATE audit_entry SET seq = 4 WHERE seq = 1000")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "seq 2" in result.output


def test_verify_page_shows_the_break(app, login_as, five_entries):
    auditor = login_as("auditor")
    assert "完整" in auditor.get("/audit/verify").get_data(as_text=True)
    drop_guards(app)
    _sql(app, "UPDATE audit_entry SET action = 'x' WHERE seq = 1")
    assert "断裂" in auditor.get("/audit/verify").get_data(as_text=True)


def test_the_log_has_no_update_or_delete_service():
    assert not any(name.startswith(("update", "delete", "edit")) for name in dir(audit.services))


def test_browse_filter_and_paginate(app, login_as, five_entries):
    app.config["PAGE_SIZE"] = 2
    try:
        auditor = login_as("auditor")
        page = auditor.get("/audit/?action=test.").get_data(as_text=True)
        assert "test.step5" in page and "test.step4" in page and "test.step3" not in page
        with app.app_context():
            step4 = db.session.execute(
                sa.select(AuditEntry.id).where(AuditEntry.action == "test.step4")
            ).scalar()
        assert f"before={step4}" in page  # keyset cursor to older entries (the order of writing)
        older = auditor.get(f"/audit/?action=test.&before={step4}").get_data(as_text=True)
        assert "test.step3" in older and "test.step2" in older and "test.step5" not in older
        one = auditor.get("/audit/?object_type=thing&object_id=2").get_data(as_text=True)
        assert "test.step2" in one and "test.step3" not in one
    finally:
        app.config["PAGE_SIZE"] = 50


def test_bad_date_filter_is_a_clear_422(login_as):
    response = login_as("auditor").get("/audit/?since=yesterday")
    assert response.status_code == 422
    assert "yesterday" in response.get_data(as_text=True)


def _field_with_error(page: str, name: str) -> str:
    """The message shown next to the filter input `name` (it must point at it)."""
    tag = re.search(rf'<input id="filter-{name}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag and f'aria-describedby="filter-{name}-error"' in tag
    return re.search(rf'<small id="filter-{name}-error" class="field-error">([^<]*)</small>', page).group(1)


@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
def test_a_bad_filter_date_gives_the_filter_form_with_the_message_next_to_the_field(login_as, url):
    response = login_as("auditor").get(f"{url}?actor=bob&since=yesterday&until=2026-02-30")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert '<form method="get" action="/audit/"' in page
    assert _field_with_error(page, "since") == "不是有效日期（YYYY-MM-DD）：yesterday"
    assert _field_with_error(page, "until") == "不是有效日期（YYYY-MM-DD）：2026-02-30"
    assert re.search(r'<input id="filter-actor"[^>]* value="bob"', page)  # what was typed stays


#: the export's columns by what they hold (the header is in the reader's language)
EXPORT_KEYS = [
    "chain", "seq", "at", "actor_name", "action", "object_type", "object_id",
    "before", "after", "request_id", "prev_hash", "hash",
]  # fmt: skip


def _rows_of(text: str) -> list[dict]:
    _header, *rows = csv.reader(io.StringIO(text))
    return [dict(zip(EXPORT_KEYS, row, strict=True)) for row in rows]


def _export(client, query: str = "") -> tuple[bytes, list[dict]]:
    response = client.get(f"/audit/export.csv{query}")
    assert response.status_code == 200
    return response.data, _rows_of(response.data.decode("utf-8-sig"))


def test_csv_export_starts_with_a_byte_order_mark_for_excel(login_as, five_entries):
    raw, rows = _export(login_as("auditor"), "?action=test.")
    assert raw.startswith("\ufeff链,序号,时间,操作人,操作,".encode())
    assert raw.count(b"\xef\xbb\xbf") == 1
    assert len(rows) == 5


def test_csv_export_times_carry_the_offset_of_the_app_time_zone(app, login_as, monkeypatch):
    monkeypatch.setattr(audit.services, "utcnow", lambda: datetime(2026, 5, 1, 17, 30, 5, 120000))
    with app.app_context():
        audit.record("test.clock", "thing", 1)
        db.session.commit()
    auditor = login_as("auditor")
    _, rows = _export(auditor, "?action=test.clock")
    assert rows[0]["at"] == "2026-05-02T01:30:05.120000+08:00"
    assert "2026年5月2日 01:30:05" in auditor.get("/audit/?action=test.clock").get_data(as_text=True)


def test_filter_dates_are_days_of_the_app_time_zone(app, login_as, monkeypatch):
    monkeypatch.setattr(audit.services, "utcnow", lambda: datetime(2026, 5, 1, 17, 30))  # 5月2日 01:30
    with app.app_context():
        audit.record("test.clock", "thing", 1)
        db.session.commit()
    auditor = login_as("auditor")
    assert "test.clock" in auditor.get("/audit/?since=2026-05-02&until=2026-05-02").get_data(as_text=True)
    assert "test.clock" not in auditor.get("/audit/?until=2026-05-01").get_data(as_text=True)
    assert len(_export(auditor, "?since=2026-05-02&action=test.")[1]) == 1


def test_csv_cells_that_would_run_as_a_formula_get_a_leading_quote(app, login_as):
    with app.app_context():
        audit.record("test.formula", '=HYPERLINK("http://x")', "+1", before=-5, after={"n": "=1+1"})
        audit.record("test.formula", "@SUM(A1)", "-2")
        db.session.commit()
    _, rows = _export(login_as("auditor"), "?action=test.formula")
    assert [(r["object_type"], r["object_id"]) for r in rows] == [
        ('\'=HYPERLINK("http://x")', "'+1"),
        ("'@SUM(A1)", "'-2"),
    ]
    assert rows[0]["before"] == "'-5"
    assert rows[0]["after"] == '{"n":"=1+1"}'  # starts with {: not a formula, left as written
    assert rows[1]["before"] == "" and rows[1]["action"] == "test.formula"


def test_csv_export(app, login_as, five_entries):
    response = login_as("auditor").get("/audit/export.csv?action=test.")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _rows_of(response.get_data(as_text=True).removeprefix("\ufeff"))
    assert [r["action"] for r in rows] == [f"test.step{n}" for n in range(1, 6)]
    assert rows[0]["after"] == '{"amount":"1.10","n":1}'
    assert all(len(r["hash"]) == 64 for r in rows)


def _changes_of(page: str, seq: int) -> list[tuple[str, str]]:
    """(field, "before → after") of the entry `seq` as the page shows it."""
    row = re.search(rf"<tr>\s*<td>{seq}</td>(.*?)</tr>", page, re.S).group(1)
    pairs = re.findall(r"<dt><code>([^<]*)</code></dt>\s*<dd>(.*?)</dd>", row, re.S)
    text = [" ".join(re.sub(r"<[^>]+>", " ", shown).split()) for _field, shown in pairs]
    return [(field, html.unescape(shown)) for (field, _html), shown in zip(pairs, text, strict=True)]


def test_the_log_shows_field_by_field_what_changed_with_nested_fields_flattened(app, login_as):
    before = {"state": "draft", "data": {"amount": "100.00", "note": "同上", "payer": {"name": "A"}}}
    after = {
        "state": "review",
        "data": {"amount": "120.00", "note": "同上", "payer": {"name": "B"}},
        "tags": [1],
        "comment": "",
    }
    with app.app_context():
        created = audit.record("thing.create", "thing", 7, after={"name": "<b>x</b>", "ok": True}).seq
        updated = audit.record("thing.update", "thing", 7, before=before, after=after).seq
        db.session.commit()
    page = login_as("auditor").get("/audit/?object_type=thing").get_data(as_text=True)
    assert _changes_of(page, updated) == [
        ("/comment", '— → ""'),
        ("/data/amount", "100.00 → 120.00"),
        ("/data/payer/name", "A → B"),
        ("/state", "draft → review"),
        ("/tags", "— → [1]"),
    ]  # the unchanged /data/note is left out
    assert _changes_of(page, created) == [("/name", "<b>x</b>"), ("/ok", "true")]
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page  # escaped


def test_case_entries_link_to_the_case_page(app, login_as):
    with app.app_context():
        seq = audit.record("case.update", "case", 42, before={"state": "a"}, after={"state": "b"}).seq
        other = audit.record("customer.update", "customer", 42, before={"x": 1}, after={"x": 2}).seq
        db.session.commit()
    page = login_as("auditor").get("/audit/").get_data(as_text=True)
    case_row = re.search(rf"<tr>\s*<td>{seq}</td>(.*?)</tr>", page, re.S).group(1)
    assert '<a href="/cases/42">业务单 42</a>' in case_row  # the object type by its name, not its key
    customer_row = re.search(rf"<tr>\s*<td>{other}</td>(.*?)</tr>", page, re.S).group(1)
    assert "<a href" not in customer_row


def test_a_write_and_its_audit_entry_commit_or_roll_back_together(app):
    from formflow.customers import services as customers

    with app.app_context():
        customers.create("R001", "Rollback Co", "A")
        db.session.rollback()
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == 0


def test_a_failed_login_with_a_200_character_username_is_refused_normally(app, client):
    username = "张" * 120 + "x" * 80  # as long as the login form allows
    response = client.login(username, "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误。" in response.get_data(as_text=True)
    with app.app_context():
        entry = db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
        ).scalar_one()
        assert entry.object_id == "张" * 99 + "…"  # the column's 100 characters, marked as cut
        assert audit.verify().ok


def test_values_longer_than_their_column_are_cut_with_a_marker(app):
    actor = type("Actor", (), {"id": 3, "username": "a" * 90})()
    with app.app_context():
        entry = audit.record("x" * 150, "t" * 60, "i" * 300, actor=actor, after={"note": "n" * 5000})
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(AuditEntry, entry.id)
        assert (len(stored.action), len(stored.object_type), len(stored.object_id)) == (100, 50, 100)
        assert stored.actor_name == "a" * 79 + "…"
        assert stored.action.endswith("…") and stored.after == {"note": "n" * 5000}
        assert audit.verify().ok
