"""Appends from many threads at once still form unbroken chains, and on PostgreSQL an open
transaction holding a chain does not hold up appends of others (no hot row)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from audit.tamper_support import GENESIS, drop_guards

from formflow import audit
from formflow.audit.models import AuditEntry
from formflow.extensions import db

THREADS, EACH = 6, 10


@pytest.mark.live_db
def test_concurrent_appends_keep_the_chain_intact(live_app):
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            start.wait()
            for n in range(EACH):
                with live_app.app_context():
                    audit.record("test.concurrent", "worker", worker, after={"n": n})
                    db.session.commit()
        except BaseException as error:  # reported below, with the thread's error
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with live_app.app_context():
        rows = db.session.execute(sa.select(AuditEntry.chain, AuditEntry.seq).order_by("chain", "seq")).all()
        by_chain: dict[int, list[int]] = {}
        for chain, seq in rows:
            by_chain.setdefault(chain, []).append(seq)
        assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_chain.values()), by_chain
        assert len(rows) == THREADS * EACH
        result = audit.verify()
    assert result.ok, result.reason
    assert result.checked == THREADS * EACH


@pytest.mark.live_db
def test_an_open_transaction_does_not_hold_up_the_next_append(live_app):
    with live_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite lets one transaction write at a time")
        first = audit.record("test.long", "worker", 1)  # this transaction stays open
        with live_app.app_context():  # another session, another connection
            db.session.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
            second = audit.record("test.short", "worker", 2)
            db.session.commit()
        db.session.commit()
        assert (first.chain, first.seq) == (1, 1)
        assert (second.chain, second.seq) == (2, 1)
        third = audit.record("test.after", "worker", 3)  # nobody holds a chain: the first one
        db.session.commit()
        assert (third.chain, third.seq) == (1, 2)
        result = audit.verify()
        anchor = audit.current_anchor()
    assert result.ok and result.checked == 3, result.reason
    assert anchor.counts == (2, 1) and str(anchor).endswith(":2.1")
    assert audit.parse_anchor(str(anchor)) == anchor

    # chain 2 cut off and its head rewound: nothing inside says so, the anchor does
    drop_guards(live_app)
    with live_app.app_context():
        db.session.execute(sa.text("DELETE FROM audit_entry WHERE chain = 2"))
        db.session.execute(
            sa.text("UPDATE audit_head SET last_seq = 0, last_hash = :genesis WHERE id = 2"),
            {"genesis": GENESIS},
        )
        db.session.commit()
        assert audit.verify().ok
        cut = audit.verify(anchor)
    assert not cut.ok and cut.chain == 2 and cut.where == "chain 2 seq 1"
    assert "chain 2 of the log has 0 entries, the anchor counted 1" in cut.reason
