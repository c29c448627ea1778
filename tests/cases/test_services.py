"""Cases through the service: start, drafts, submit, edit rules, audit, search text."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from cases.cases_support import new_customer, new_user, publish_process

from formflow.audit.models import AuditEntry
from formflow.cases import services
from formflow.cases.models import Case
from formflow.errors import Conflict, Forbidden, Invalid
from formflow.extensions import db


@pytest.fixture
def world(app_ctx):
    publish_process("t_payment")
    new_customer("C100")
    return {"staff": new_user("alice"), "other": new_user("bob"), "admin": new_user("root", ["admin"])}


def _count(model=Case) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _audit(case_id: int) -> list[str]:
    rows = db.session.execute(
        sa.select(AuditEntry.action)
        .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case_id))
        .order_by(AuditEntry.seq)
    )
    return list(rows.scalars())


def test_start_a_draft_then_submit_it(world):
    alice = world["staff"]
    case = services.start("t_payment", "C100", {"note": "first call"}, submit=False, actor=alice)
    db.session.commit()
    assert (case.state, case.submitted_at, case.version.number, case.created_by_id) == (
        "draft",
        None,
        1,
        alice.id,
    )
    assert case.customer.code == "C100" and case.process.key == "t_payment"

    services.save(case, {"amount": Decimal("12.50"), "method": "bank"}, submit=True, actor=alice)
    db.session.commit()
    db.session.expire_all()
    stored = services.get(case.id)
    assert stored.state == "submitted" and stored.submitted_at is not None
    assert stored.data == {"amount": Decimal("12.50"), "method": "bank"}
    assert _audit(case.id) == ["case.create", "case.update", "case.submit"]
    assert services.submitter(stored).id == alice.id


def test_start_submitted_at_once_records_who_submitted(world):
    case = services.start(
        "t_payment", "C100", {"amount": 5, "method": "cash"}, submit=True, actor=world["staff"]
    )
    assert case.state == "submitted"
    assert _audit(case.id) == ["case.create", "case.submit"]
    entry = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "case.create")).scalar_one()
    assert entry.after["data"] == {"amount": 5, "method": "cash"} and entry.after["state"] == "submitted"


def test_invalid_submission_stores_nothing_and_points_into_data(world):
    cases_before, audit_before = _count(), _count(AuditEntry)
    with pytest.raises(Invalid) as raised:
        services.start(
            "t_payment", "C100", {"amount": -1, "note": "x" * 201}, submit=True, actor=world["staff"]
        )
    pointers = {error["pointer"] for error in raised.value.errors}
    assert {"/data/amount", "/data/note"} <= pointers
    assert any(p == "/data/method" or p == "/data" for p in pointers)  # required: method
    db.session.rollback()
    assert (_count(), _count(AuditEntry)) == (cases_before, audit_before)


def test_a_draft_may_be_incomplete_but_not_wrong(world):
    alice = world["staff"]
    draft = services.start("t_payment", "C100", {}, submit=False, actor=alice)
    assert draft.state == "draft"
    with pytest.raises(Invalid) as raised:
        services.start("t_payment", "C100", {"amount": "lots", "method": "barter"}, submit=False, actor=alice)
    assert {e["pointer"] for e in raised.value.errors} == {"/data/amount", "/data/method"}


def test_draft_rule_drops_required_everywhere_but_keeps_property_named_required():
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {
            "required": {"type": "string"},
            "rows": {"type": "array", "items": {"type": "object", "required": ["x"]}},
        },
        "$defs": {"d": {"required": ["y"], "dependentRequired": {"y": ["z"]}}},
        "then": {"required": ["b"]},
    }
    loose = services.without_required(schema)
    assert loose == {
        "type": "object",
        "properties": {
            "required": {"type": "string"},
            "rows": {"type": "array", "items": {"type": "object"}},
        },
        "$defs": {"d": {}},
        "then": {},
    }


def test_unknown_process_or_customer_is_invalid_at_its_pointer(world):
    with pytest.raises(Invalid) as raised:
        services.start("nope", "C999", {}, submit=False, actor=world["staff"])
    assert [e["pointer"] for e in raised.value.errors] == ["/process", "/customer"]


def test_data_must_be_an_object(world):
    with pytest.raises(Invalid) as raised:
        services.start("t_payment", "C100", ["not", "an", "object"], submit=False, actor=world["staff"])
    assert raised.value.errors[0]["pointer"] == "/data"


def test_a_submitted_case_cannot_be_edited(world):
    case = services.start(
        "t_payment", "C100", {"amount": 5, "method": "cash"}, submit=True, actor=world["staff"]
    )
    with pytest.raises(Conflict):
        services.save(case, {"amount": 6, "method": "cash"}, submit=False, actor=world["staff"])
    with pytest.raises(Conflict):
        services.save(case, {"amount": 6, "method": "cash"}, submit=False, actor=world["admin"])


def test_only_the_creator_or_an_admin_edits_a_draft(world):
    case = services.start("t_payment", "C100", {"note": "mine"}, submit=False, actor=world["staff"])
    with pytest.raises(Forbidden):
        services.save(case, {"note": "theirs"}, submit=False, actor=world["other"])
    services.save(case, {"note": "fixed by admin"}, submit=False, actor=world["admin"])
    assert case.data == {"note": "fixed by admin"}


def test_roles_without_cases_create_cannot_start(world):
    finance = new_user("fin", ["finance"])
    with pytest.raises(Forbidden):
        services.start("t_payment", "C100", {}, submit=False, actor=finance)


def test_a_stale_editor_gets_a_conflict(world):
    alice = world["staff"]
    case = services.start("t_payment", "C100", {"note": "v1"}, submit=False, actor=alice)
    db.session.commit()
    seen = case.lock_version
    services.save(case, {"note": "v2"}, submit=False, actor=alice, lock_version=seen)
    db.session.commit()
    with pytest.raises(Conflict):
        services.save(case, {"note": "v3"}, submit=False, actor=alice, lock_version=seen)


def test_update_is_audited_with_before_and_after(world):
    alice = world["staff"]
    case = services.start("t_payment", "C100", {"note": "before"}, submit=False, actor=alice)
    services.save(case, {"note": "after"}, submit=False, actor=alice)
    entry = db.session.execute(
        sa.select(AuditEntry).where(AuditEntry.action == "case.update", AuditEntry.object_id == str(case.id))
    ).scalar_one()
    assert entry.before["data"] == {"note": "before"} and entry.after["data"] == {"note": "after"}
    assert entry.actor_name == "alice"


def test_search_text_is_the_lower_cased_strings():
    data = {"note": "Hello 世界", "n": 5, "rows": [{"label": "  ABC "}], "flag": True}
    assert services.search_text(data) == "hello 世界\nabc"


def test_a_case_keeps_its_version_when_a_new_one_is_published(world):
    case = services.start("t_payment", "C100", {}, submit=False, actor=world["staff"])
    publish_process(
        "t_payment", schema={"type": "object", "properties": {"other": {"type": "string"}}}, ui_schema={}
    )
    db.session.expire_all()
    assert services.get(case.id).version.number == 1
    newer = services.start("t_payment", "C100", {}, submit=False, actor=world["staff"])
    assert newer.version.number == 2
