"""The audit log resists rewriting (issue 11, item 6): the database refuses to change or delete
entries, the chain is keyed by FORMFLOW_AUDIT_KEY so rows rehashed without it fail `audit verify`,
a log written before keying still verifies, and an anchor kept outside catches a cut-off tail."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from audit.tamper_support import GENESIS, drop_guards, old_hash, recompute_unkeyed
from flask_migrate import upgrade
from support import DATABASE, fresh_database, make_app

from formflow import audit
from formflow.audit.models import AuditEntry
from formflow.config import settings_from_env
from formflow.extensions import db, utcnow

FIONA = SimpleNamespace(id=7, username="fiona")


@pytest.fixture
def approvals(app):
    """Five approvals by fiona, committed (to the test's outer transaction)."""
    with app.app_context():
        for case_id in range(1, 6):
            audit.record(
                "case.transition",
                "case",
                case_id,
                before={"state": "review"},
                after={"state": "executed", "action": "approve"},
                actor=FIONA,
            )
        db.session.commit()


def _sql(app, statement: str) -> None:
    with app.app_context():
        db.session.execute(sa.text(statement))
        db.session.commit()


def _hash_at(app, seq: int) -> str:
    with app.app_context():
        return db.session.execute(sa.select(AuditEntry.hash).where(AuditEntry.seq == seq)).scalar_one()


# --- the database refuses ------------------------------------------------------------------

REFUSED = [
    "UPDATE audit_entry SET actor_name = 'mallory' WHERE seq = 2",
    "UPDATE audit_entry SET seq = 99 WHERE seq = 5",
    "DELETE FROM audit_entry WHERE seq = 5",
    "DELETE FROM audit_entry",
    "DELETE FROM audit_head",
    "UPDATE audit_head SET last_seq = last_seq - 2 WHERE id = 1",
    "UPDATE audit_head SET last_hash = (SELECT hash FROM audit_entry WHERE seq = 3) WHERE id = 1",
    "UPDATE audit_head SET keyed_from_seq = 6 WHERE id = 1",
    "UPDATE audit_head SET legacy_seal = 'x' WHERE id = 1",
]
if DATABASE != "sqlite":
    REFUSED += ["TRUNCATE audit_entry", "TRUNCATE audit_head"]


@pytest.mark.parametrize("statement", REFUSED)
def test_the_database_refuses_to_change_or_delete_audit_rows(app, approvals, statement):
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="audit log is append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
        assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar_one() == 5
        assert audit.verify().ok


def test_appends_still_move_the_head_forward(app, approvals):
    with app.app_context():
        entry = audit.record("test.more", "thing", 1)
        db.session.commit()
        assert entry.seq == 6
        assert audit.verify().ok


# --- the key ---------------------------------------------------------------------------------


def test_an_approval_reassigned_and_rehashed_with_unkeyed_sha256_fails_verify(app, cli, approvals):
    drop_guards(app)
    _sql(app, "UPDATE audit_entry SET actor_name = 'mallory', actor_id = 8 WHERE seq = 3")
    recompute_unkeyed(app, from_seq=3)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "FAIL at seq 3" in result.output


def test_claiming_the_whole_log_predates_keying_fails_verify(app, cli, approvals):
    drop_guards(app)
    _sql(app, "UPDATE audit_entry SET actor_name = 'mallory' WHERE seq = 3")
    _sql(app, f"UPDATE audit_head SET keyed_from_seq = 6, legacy_seal = '{'0' * 64}' WHERE id = 1")
    recompute_unkeyed(app, from_seq=1)
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "FAIL at seq 5" in result.output and "seal" in result.output


def test_the_chain_is_keyed_by_formflow_audit_key(app, cli, approvals):
    assert cli("audit", "verify").exit_code == 0
    app.config["AUDIT_KEY"] = "not-the-key-that-wrote-them"
    try:
        result = cli("audit", "verify")
    finally:
        app.config["AUDIT_KEY"] = None
    assert result.exit_code == 1
    assert "FAIL at seq 1" in result.output and "FORMFLOW_AUDIT_KEY" in result.output


def test_the_key_comes_from_formflow_audit_key(tmp_path, monkeypatch):
    monkeypatch.setenv("FORMFLOW_AUDIT_KEY", "k" * 40)
    assert settings_from_env(tmp_path)["AUDIT_KEY"] == "k" * 40
    monkeypatch.delenv("FORMFLOW_AUDIT_KEY")
    assert settings_from_env(tmp_path)["AUDIT_KEY"] is None


def test_without_formflow_audit_key_the_key_derives_from_the_secret_key_with_a_warning(
    app, cli, approvals, caplog
):
    secret = app.config["SECRET_KEY"]
    app.extensions.pop("formflow.audit_key_warned", None)  # warned once per app: as if it just started
    with caplog.at_level(logging.WARNING):
        assert cli("audit", "verify").exit_code == 0
    assert "FORMFLOW_AUDIT_KEY is not set" in caplog.text
    app.config["SECRET_KEY"] = "another-secret"
    try:
        assert cli("audit", "verify").exit_code == 1
    finally:
        app.config["SECRET_KEY"] = secret


# --- a log written before keying -------------------------------------------------------------

_OLD_ENTRY = sa.table(
    "audit_entry",
    *(sa.column(name) for name in ("seq", "actor_id", "actor_name", "action", "object_type")),
    *(sa.column(name) for name in ("object_id", "request_id", "prev_hash", "hash")),
    sa.column("at", sa.DateTime),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)


def _write_unkeyed_entries(count: int) -> None:
    """Entries as the log wrote them before migration 0007: plain SHA-256, no key."""
    prev = GENESIS
    for seq in range(1, count + 1):
        row = SimpleNamespace(
            seq=seq,
            at=utcnow(),
            actor_id=7,
            actor_name="fiona",
            action="case.transition",
            object_type="case",
            object_id=str(seq),
            before={"state": "review"},
            after={"state": "executed"},
            request_id=None,
        )
        row.prev_hash, row.hash = prev, old_hash(prev, row)
        db.session.execute(sa.insert(_OLD_ENTRY).values(**vars(row)))
        prev = row.hash
    db.session.execute(
        sa.text("UPDATE audit_head SET last_seq = :n, last_hash = :h WHERE id = 1"), {"n": count, "h": prev}
    )
    db.session.commit()


@pytest.fixture
def upgraded_app(tmp_path):
    """An app whose log was written before keying (three entries), then upgraded to head."""
    with fresh_database(tmp_path) as database:
        application = make_app(database, tmp_path)
        with application.app_context():
            upgrade(directory=application.config["MIGRATIONS_DIR"], revision="0006_auth_sessions")
            _write_unkeyed_entries(3)
            upgrade(directory=application.config["MIGRATIONS_DIR"])
            db.session.remove()
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.live_db
def test_a_log_written_before_keying_still_verifies_and_keys_what_follows(upgraded_app):
    with upgraded_app.app_context():
        result = audit.verify()
        assert result.ok, result.reason
        assert result.checked == 3
        entry = audit.record("case.transition", "case", 4, actor=FIONA)
        db.session.commit()
        assert entry.hash != old_hash(entry.prev_hash, entry)  # keyed from here on
        assert audit.verify().ok and audit.verify().checked == 4


@pytest.mark.live_db
@pytest.mark.parametrize("appended", [0, 2])
def test_rewriting_the_entries_from_before_keying_fails_verify(upgraded_app, appended):
    with upgraded_app.app_context():
        for n in range(appended):
            audit.record("case.transition", "case", 10 + n, actor=FIONA)
        db.session.commit()
    drop_guards(upgraded_app)
    _sql(upgraded_app, "UPDATE audit_entry SET actor_name = 'mallory' WHERE seq = 2")
    recompute_unkeyed(upgraded_app, from_seq=2)
    with upgraded_app.app_context():
        result = audit.verify()
    assert not result.ok
    assert result.bad_seq == 3  # the last unkeyed entry no longer matches the seal made at the upgrade


@pytest.mark.live_db
def test_rewriting_only_the_keyed_entries_the_old_way_fails_verify(upgraded_app):
    with upgraded_app.app_context():
        audit.record("case.transition", "case", 4, actor=FIONA)
        db.session.commit()
    drop_guards(upgraded_app)
    recompute_unkeyed(upgraded_app, from_seq=4)
    with upgraded_app.app_context():
        result = audit.verify()
    assert not result.ok and result.bad_seq == 4


# --- the anchor --------------------------------------------------------------------------------


def test_anchor_prints_the_head_hash_and_count(app, cli, approvals):
    result = cli("audit", "anchor")
    assert result.exit_code == 0
    assert result.output.strip() == f"{_hash_at(app, 5)}:5"


def test_anchor_of_an_empty_log(cli):
    assert cli("audit", "anchor").output.strip() == f"{GENESIS}:0"


def test_a_cut_off_tail_with_a_rewound_head_fails_verify_against_the_anchor(app, cli, approvals):
    anchor = cli("audit", "anchor").output.strip()
    drop_guards(app)
    _sql(app, "DELETE FROM audit_entry WHERE seq > 3")
    _sql(
        app,
        "UPDATE audit_head SET last_seq = 3, last_hash = (SELECT hash FROM audit_entry WHERE seq = 3)"
        " WHERE id = 1",
    )
    assert cli("audit", "verify").exit_code == 0  # nothing left in the database says rows are gone
    result = cli("audit", "verify", "--anchor", anchor)
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "3 entries" in result.output and "5" in result.output


def test_verify_against_an_anchor_passes_when_the_log_has_grown_past_it(app, cli, approvals):
    anchor = cli("audit", "anchor").output.strip()
    with app.app_context():
        audit.record("test.more", "thing", 1)
        db.session.commit()
    result = cli("audit", "verify", "--anchor", anchor)
    assert result.exit_code == 0, result.output
    assert "6 audit entries" in result.output and "anchor" in result.output


def test_an_anchor_the_log_does_not_have_at_its_count_fails(app, cli, approvals):
    result = cli("audit", "verify", "--anchor", f"{_hash_at(app, 2)}:3")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "seq 3" in result.output


@pytest.mark.parametrize("anchor", ["", "abc", f"{GENESIS}", f"{GENESIS}:-1", f"{GENESIS}:x", "xyz:3"])
def test_a_malformed_anchor_is_a_usage_error(cli, anchor):
    result = cli("audit", "verify", "--anchor", anchor)
    assert result.exit_code == 2
    assert "HASH:COUNT" in result.output
