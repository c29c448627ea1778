"""Saves of one draft at the same moment (issue: 13 of 20 concurrent saves on PostgreSQL were
a 500, StaleDataError in linking the attachments): each is saved or refused as a Conflict
(409), never an error, and the draft holds one of the saves whole. Real commits."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from werkzeug.datastructures import FileStorage

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases import uploads
from formflow.demo import load_demo
from formflow.errors import Conflict
from formflow.extensions import db

pytestmark = pytest.mark.live_db
WRITERS = 6


def test_concurrent_saves_of_a_draft_are_saved_or_conflicts(live_app):
    with live_app.app_context():
        load_demo(echo=lambda _line: None)
        staff = auth.find_user("staff")
        upload = FileStorage(io.BytesIO(b"%PDF-1.4 x"), "x.pdf", content_type="application/pdf")
        token = uploads.store_upload("/evidence", upload, {}, actor=staff)
        data = {"reason": "quality", "amount": Decimal("1.00"), "evidence": token}
        case_id = cases.start("deduction", "C005", data, submit=False, actor=staff).id
        db.session.commit()

    start = threading.Barrier(WRITERS)
    outcomes: list[str] = []

    def save(amount: int) -> None:
        with live_app.app_context():
            try:
                start.wait(timeout=30)  # before reading: on SQLite a read already takes the write lock
                case = cases.get(case_id)
                new = {"reason": "quality", "amount": Decimal(amount), "evidence": token}
                cases.save(case, new, submit=False, actor=auth.find_user("staff"))
                db.session.commit()
                outcomes.append("saved")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            except BaseException as error:  # anything else is the bug
                db.session.rollback()
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=save, args=(100 + i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == WRITERS
    assert all(outcome in ("saved", "conflict") for outcome in outcomes), outcomes
    assert "saved" in outcomes
    with live_app.app_context():
        case = cases.get(case_id)
        assert case.data["amount"] in {Decimal(100 + i) for i in range(WRITERS)}
        assert [a.token for a in case.attachments] == [token]
