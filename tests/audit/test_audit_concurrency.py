"""Appends from many threads at once still form one unbroken chain."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

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
        seqs = list(db.session.execute(sa.select(AuditEntry.seq).order_by(AuditEntry.seq)).scalars())
        assert seqs == list(range(1, THREADS * EACH + 1))
        result = audit.verify()
    assert result.ok, result.reason
