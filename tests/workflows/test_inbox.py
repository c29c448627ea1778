"""The inbox: what waits for whom (roles, assignee, reassignment, delegation, not the
initiator, already approved), overdue first, bulk approval, delegations and reassignment."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import Client
from workflows.inbox_support import (
    PASSWORD,
    SPEC,
    checklist_spec,
    field_assignee_spec,
    install,
    new_case,
    user,
)

from formflow.audit.models import AuditEntry
from formflow.errors import Forbidden, Invalid
from formflow.extensions import db, utcnow
from formflow.rules.operators import business_today
from formflow.workflows import engine, inbox
from formflow.workflows.models import Timer


@pytest.fixture
def world(app):
    with app.app_context():
        return install()


def waiting(name: str) -> list[int]:
    return [row.case.id for row in inbox.waiting_for(user(name))]


def test_a_case_in_review_waits_for_finance_not_for_others(world, app_ctx):
    case = new_case("100")
    assert case.state == "review"
    for name in ("fin1", "fin2", "fin3"):
        assert case.id in waiting(name), name
    for name in ("staff1", "staff2", "mgr1", "aud1"):
        assert case.id not in waiting(name), name
    row = inbox.waiting_for(user("fin1"))[0]
    assert (row.reason, row.state_title, row.on_behalf_of) == ("assignee", "审核", [])
    assert inbox.count_for(user("fin1")) == 1


def test_a_draft_waits_for_whoever_started_it_only(world, app_ctx):
    draft = new_case("100", submit=False)
    assert draft.state == "draft"
    assert waiting("staff1") == [draft.id]
    assert inbox.waiting_for(user("staff1"))[0].reason == "initiator"
    assert draft.id not in waiting("staff2")  # may submit drafts by role, but it is not theirs


def test_not_the_initiator_the_creator_does_not_see_their_own_review(world, app_ctx):
    case = new_case("100", by="fin3")  # fin3 is staff and finance
    assert case.state == "review"
    assert case.id not in waiting("fin3")
    assert case.id in waiting("fin1")


def test_an_approval_round_already_approved_no_longer_waits_for_that_approver(world, app_ctx):
    case = new_case("2000")  # above 1000: two distinct approvals
    engine.perform(case, "approve", user("fin1"))
    db.session.commit()
    assert case.state == "review"
    assert case.id not in waiting("fin1")
    assert case.id in waiting("fin2")
    # sent back and submitted again: a new round, fin1 is asked again
    engine.perform(case, "return", user("fin2"), comment="金额有误")
    engine.perform(case, "submit", user("staff1"))
    db.session.commit()
    assert case.id in waiting("fin1")


def test_closed_cases_wait_for_nobody(world, app_ctx):
    case = new_case("100")
    engine.perform(case, "approve", user("fin1"))
    db.session.commit()
    assert case.closed_at is not None
    assert all(case.id not in waiting(name) for name in ("fin1", "fin2", "staff1", "admin1"))


def test_a_review_assigned_by_a_field_waits_for_that_user_only(app, app_ctx):
    install(field_assignee_spec())
    case = new_case("100", key="wf_inbox_field", reviewer="fin2")
    assert case.id in waiting("fin2")
    assert case.id not in waiting("fin1")
    assert inbox.waiting_for(user("fin2"))[0].reason == "assignee"


# --- reassignment --------------------------------------------------------------------------


def test_a_manager_reassigns_the_step_to_one_person(world, app_ctx):
    case = new_case("100")
    inbox.reassign(case, user("fin2"), user("mgr1"))
    db.session.commit()
    assert case.id in waiting("fin2")
    assert inbox.waiting_for(user("fin2"))[0].reason == "reassigned"
    assert case.id not in waiting("fin1")
    with pytest.raises(Forbidden):
        engine.perform(case, "approve", user("fin1"))
    db.session.rollback()
    entry = db.session.execute(
        sa.select(AuditEntry).where(
            AuditEntry.action == "case.reassign", AuditEntry.object_id == str(case.id)
        )
    ).scalar_one()
    assert entry.actor_name == "mgr1" and entry.after["assigned_to"] == "fin2"
    # back to the step's assignee role
    inbox.reassign(case, None, user("mgr1"))
    db.session.commit()
    assert case.id in waiting("fin1") and case.id in waiting("fin2")


def test_a_reassignment_is_for_the_step_it_was_made_at(world, app_ctx):
    case = new_case("100")
    inbox.reassign(case, user("fin2"), user("mgr1"))
    engine.perform(case, "return", user("fin2"), comment="请补充")
    db.session.commit()
    assert case.state == "draft" and case.assigned_to_id is None
    assert waiting("staff1") == [case.id]  # back with whoever started it
    engine.perform(case, "submit", user("staff1"))
    db.session.commit()
    assert case.id in waiting("fin1")


def test_only_managers_and_admins_reassign_and_only_to_someone_who_could_act(world, app_ctx):
    case = new_case("100")
    with pytest.raises(Forbidden):
        inbox.reassign(case, user("fin2"), user("fin1"))
    with pytest.raises(Invalid) as refused:
        inbox.reassign(case, user("staff2"), user("admin1"))  # no finance role
    assert refused.value.errors[0]["pointer"] == "/to"
    with pytest.raises(Invalid):
        inbox.reassign(case, user("staff1"), user("mgr1"))  # the initiator, on a not_initiator step
    db.session.rollback()
    assert [u.username for u in inbox.reassign_choices(case)] == ["fin1", "fin2", "fin3"]


# --- delegation ----------------------------------------------------------------------------


def test_a_delegate_sees_and_approves_the_delegators_cases_within_the_window(world, app_ctx):
    case = new_case("2000")  # two approvals by different people
    inbox.reassign(case, user("fin1"), user("mgr1"))  # fin1's own step: fin2 may not act on it
    today = business_today()
    inbox.delegate(
        user("fin1"), user("fin2"), today - timedelta(days=1), today + timedelta(days=1), user("fin1")
    )
    db.session.commit()
    assert inbox.delegators_of(user("fin2"), today) == [world["fin1"]]
    row = next(r for r in inbox.waiting_for(user("fin2")) if r.case.id == case.id)
    assert (row.reason, row.on_behalf_of) == ("delegated", ["fin1"])
    engine.perform(case, "approve", user("fin2"))
    db.session.commit()
    [given] = engine.approval_status(case).given
    assert (given.user_id, given.on_behalf_of_id) == (world["fin2"], world["fin1"])
    # the delegate's approval was fin1's: fin1 cannot give a second one of the two
    with pytest.raises(Invalid) as refused:
        engine.perform(case, "approve", user("fin1"))
    assert refused.value.errors[0]["pointer"] == "/action"


def test_the_delegation_window_includes_both_days_and_nothing_else(world, app_ctx):
    today = business_today()
    start, end = today + timedelta(days=2), today + timedelta(days=4)
    inbox.delegate(user("fin1"), user("fin2"), start, end, user("fin1"))
    db.session.commit()
    delegate = user("fin2")
    assert inbox.delegators_of(delegate, start - timedelta(days=1)) == []
    assert inbox.delegators_of(delegate, start) == [world["fin1"]]
    assert inbox.delegators_of(delegate, end) == [world["fin1"]]
    assert inbox.delegators_of(delegate, end + timedelta(days=1)) == []
    inbox.reassign(new_case("100"), user("fin1"), user("mgr1"))
    assert waiting("fin2") == []  # not yet


def test_a_revoked_delegation_or_a_deactivated_delegator_no_longer_counts(world, app_ctx):
    from formflow.auth import services as auth

    today = business_today()
    first = inbox.delegate(user("fin1"), user("fin3"), today, today, user("fin1"))
    inbox.delegate(user("fin2"), user("fin3"), today, today, user("fin2"))
    db.session.commit()
    assert inbox.delegators_of(user("fin3"), today) == sorted([world["fin1"], world["fin2"]])
    inbox.revoke(first, user("fin1"))
    auth.set_active(user("fin2"), False, actor=user("admin1"))
    db.session.commit()
    assert inbox.delegators_of(user("fin3"), today) == []
    actions = {e.action for e in db.session.execute(sa.select(AuditEntry)).scalars()}
    assert {"delegation.create", "delegation.revoke"} <= actions


@pytest.mark.parametrize(
    "to, starts, ends, pointer",
    [
        ("fin1", 0, 1, "/to"),  # to oneself
        (None, 0, 1, "/to"),
        ("fin2", 3, 1, "/ends_on"),  # ends before it starts
        ("fin2", -5, -2, "/ends_on"),  # already over
    ],
)
def test_a_delegation_that_makes_no_sense_is_refused_with_a_pointer(
    world, app_ctx, to, starts, ends, pointer
):
    today = business_today()
    with pytest.raises(Invalid) as refused:
        inbox.delegate(
            user("fin1"),
            user(to) if to else None,
            today + timedelta(days=starts),
            today + timedelta(days=ends),
            user("fin1"),
        )
    assert refused.value.errors[0]["pointer"] == pointer


def test_delegating_twice_to_the_same_person_for_the_same_days_is_refused(world, app_ctx):
    today = business_today()
    inbox.delegate(user("fin1"), user("fin2"), today, today + timedelta(days=5), user("fin1"))
    with pytest.raises(Invalid):
        inbox.delegate(
            user("fin1"), user("fin2"), today + timedelta(days=5), today + timedelta(days=6), user("fin1")
        )


def test_only_the_delegator_or_an_admin_delegates_and_revokes(world, app_ctx):
    today = business_today()
    with pytest.raises(Forbidden):
        inbox.delegate(user("fin1"), user("fin2"), today, today, user("staff1"))
    made = inbox.delegate(user("fin1"), user("fin2"), today, today, user("admin1"))
    with pytest.raises(Forbidden):
        inbox.revoke(made, user("staff1"))
    assert inbox.revoke(made, user("fin2")).revoked_at is not None  # the delegate may decline


# --- order ---------------------------------------------------------------------------------


def test_overdue_cases_come_first_then_the_longest_waiting(world, app_ctx):
    now = utcnow()
    oldest, middle, newest = (new_case("100") for _ in range(3))
    for hours, case in ((30, oldest), (20, middle), (10, newest)):
        case.state_entered_at = now - timedelta(hours=hours)
    db.session.add(Timer(case_id=newest.id, state="review", round=newest.state_round, kind="due",
                         fire_at=now - timedelta(hours=1)))  # fmt: skip
    db.session.add(Timer(case_id=middle.id, state="review", round=middle.state_round, kind="due",
                         fire_at=now + timedelta(hours=5)))  # fmt: skip
    # a due timer of an earlier round does not make the case overdue now
    db.session.add(Timer(case_id=oldest.id, state="review", round=oldest.state_round + 7, kind="due",
                         fire_at=now - timedelta(hours=3)))  # fmt: skip
    db.session.commit()
    rows = inbox.waiting_for(user("fin1"), now=now)
    assert [r.case.id for r in rows] == [newest.id, oldest.id, middle.id]
    assert [r.overdue for r in rows] == [True, False, False]
    assert rows[2].due_at is not None


# --- bulk approval -------------------------------------------------------------------------


def test_bulk_approve_approves_what_needs_no_input_and_says_why_not_for_the_rest(app, app_ctx):
    install(SPEC, checklist_spec())
    quick = new_case("100")
    two = new_case("2000")
    needs_checklist = new_case("100", key="wf_inbox_checklist")
    assert inbox.quick_approval(needs_checklist, user("fin1")) is None
    outcomes = inbox.bulk_approve([quick.id, two.id, needs_checklist.id, 999999], user("fin1"))
    by_id = {o.case_id: o for o in outcomes}
    assert by_id[quick.id].ok and by_id[quick.id].state == "approved"
    assert by_id[two.id].ok and by_id[two.id].state == "review"  # one of two approvals
    refused = by_id[needs_checklist.id]
    assert not refused.ok and "进一步处理" in refused.message  # zh-CN: "needs your input"
    assert not by_id[999999].ok
    db.session.expire_all()
    assert db.session.get(type(quick), quick.id).state == "approved"
    assert db.session.get(type(needs_checklist), needs_checklist.id).state == "review"
    # approving again what one already approved: refused, nothing else changes
    again = inbox.bulk_approve([two.id], user("fin1"))
    assert not again[0].ok


def test_bulk_approve_of_a_case_one_may_not_act_on_is_refused(world, app_ctx):
    case = new_case("100")
    [outcome] = inbox.bulk_approve([case.id], user("staff2"))
    assert not outcome.ok and case.state == "review"


# --- pages ---------------------------------------------------------------------------------


def logged_in(app, name: str) -> Client:
    client = Client(app.test_client())
    assert client.login(name, PASSWORD).status_code == 302
    return client


def test_the_inbox_page_lists_the_cases_and_the_navigation_counts_them(app, world):
    with app.app_context():
        first, second = new_case("100").id, new_case("2000").id
    client = logged_in(app, "fin1")
    page = client.get("/inbox").get_data(as_text=True)
    assert f'href="/cases/{first}"' in page and f'href="/cases/{second}"' in page
    assert 'class="badge nav-count">2<' in page
    assert f'name="case" value="{first}"' in page  # approvable from the list
    home = logged_in(app, "staff2").get("/").get_data(as_text=True)
    assert "nav-count" not in home  # nothing waits for staff2


def test_bulk_approve_from_the_inbox_page(app, world):
    with app.app_context():
        first, second = new_case("100").id, new_case("100").id
    client = logged_in(app, "fin1")
    response = client.post_form("/inbox/bulk-approve", {"case": [first, second]}, token_page="/inbox")
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    page = client.get("/inbox").get_data(as_text=True)
    assert page.count("flash-success") == 2
    with app.app_context():
        from formflow.cases.models import Case

        assert {db.session.get(Case, i).state for i in (first, second)} == {"approved"}
    empty = client.post_form("/inbox/bulk-approve", {}, token_page="/inbox")
    assert empty.status_code == 302


def test_delegations_page_creates_and_ends_a_delegation(app, world):
    client = logged_in(app, "fin1")
    today = business_today()
    response = client.post_form(
        "/delegations",
        {"to": "fin2", "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=3)).isoformat()},
        token_page="/delegations",
    )
    assert response.status_code == 302
    with app.app_context():
        assert inbox.delegators_of(user("fin2"), today) == [world["fin1"]]
        [made], _received = inbox.delegations_of(user("fin1"))
        made_id = made.id
    bad = client.post_form(
        "/delegations", {"to": "nobody", "starts_on": "x", "ends_on": ""}, token_page="/delegations"
    )
    assert bad.status_code == 422 and "aria-invalid" in bad.get_data(as_text=True)
    # someone else's delegation: 403; one's own: ended
    other = logged_in(app, "staff1")
    assert other.post_form(f"/delegations/{made_id}/revoke", {}, token_page="/delegations").status_code == 403
    assert (
        client.post_form(f"/delegations/{made_id}/revoke", {}, token_page="/delegations").status_code == 302
    )
    with app.app_context():
        assert inbox.delegators_of(user("fin2"), today) == []


def test_reassign_from_the_case_page(app, world):
    with app.app_context():
        case = new_case("100")
        case_id, fin2, lock = case.id, world["fin2"], case.lock_version
    manager = logged_in(app, "mgr1")
    page = manager.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="reassign"' in page
    done = manager.post_form(
        f"/cases/{case_id}/reassign", {"to": fin2, "lock_version": lock}, token_page="/inbox"
    )
    assert done.status_code == 302
    stale = manager.post_form(
        f"/cases/{case_id}/reassign", {"to": "", "lock_version": lock}, token_page="/inbox"
    )
    assert stale.status_code == 409 and "flash-error" in stale.get_data(as_text=True)
    assert logged_in(app, "fin1").post_form(f"/cases/{case_id}/reassign", {"to": ""}).status_code == 403
    with app.app_context():
        assert inbox.waiting_for(user("fin2"))[0].reason == "reassigned"
