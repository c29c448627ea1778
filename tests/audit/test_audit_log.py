"""The audit log: hash chain, `audit verify` catching edits, deletions and reordering,
browsing with filters and pagination, CSV export."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

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
    _sql(app, tamper)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert f"seq {bad_seq}" in result.output


def test_verify_catches_reordered_rows(app, cli, five_entries):
    # swap rows 2 and 4 (seq is unique, so go through a free value)
    _sql(app, "UPDATE audit_entry SET seq = 1000 WHERE seq = 2")
    _sql(app, "UPDATE audit_entry SET seq = 2 WHERE seq = 4")
    _sql(app, "UPDATE audit_entry SET seq = 4 WHERE seq = 1000")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "seq 2" in result.output


def test_verify_page_shows_the_break(app, login_as, five_entries):
    auditor = login_as("auditor")
    assert "完整" in auditor.get("/audit/verify").get_data(as_text=True)
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
        assert "before=4" in page  # keyset cursor to older entries
        older = auditor.get("/audit/?action=test.&before=4").get_data(as_text=True)
        assert "test.step3" in older and "test.step2" in older and "test.step5" not in older
        one = auditor.get("/audit/?object_type=thing&object_id=2").get_data(as_text=True)
        assert "test.step2" in one and "test.step3" not in one
    finally:
        app.config["PAGE_SIZE"] = 50


def test_bad_date_filter_is_a_clear_422(login_as):
    response = login_as("auditor").get("/audit/?since=yesterday")
    assert response.status_code == 422
    assert "yesterday" in response.get_data(as_text=True)


def test_csv_export(app, login_as, five_entries):
    response = login_as("auditor").get("/audit/export.csv?action=test.")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["action"] for r in rows] == [f"test.step{n}" for n in range(1, 6)]
    assert rows[0]["after"] == '{"amount":"1.10","n":1}'
    assert all(len(r["hash"]) == 64 for r in rows)


def test_a_write_and_its_audit_entry_commit_or_roll_back_together(app):
    from formflow.customers import services as customers

    with app.app_context():
        customers.create("R001", "Rollback Co", "A")
        db.session.rollback()
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == 0
