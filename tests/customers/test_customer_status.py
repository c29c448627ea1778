"""A customer's status history and the blacklist, and the spec option that keeps a process
from starting for customers in chosen statuses — through the services, the customer page's
forms, the case-starting page and the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from cases.cases_support import new_customer, spec

from formflow.audit.models import AuditEntry
from formflow.auth import services as users
from formflow.auth.models import User
from formflow.customers import services as customers
from formflow.customers import statuses
from formflow.customers.models import CUSTOMER_STATUSES, Customer
from formflow.errors import Conflict, Invalid
from formflow.extensions import db
from formflow.processes import services as processes


def publish_refusing(refuse: list[str], key: str = "t_refuse"):
    document = spec(key) | {"customers": {"refuse_status": refuse}}
    processes.import_spec(document)
    processes.publish(key)
    db.session.commit()


def test_the_spec_schema_knows_every_status(app_ctx):
    schema = json.loads(Path(processes.__file__).with_name("spec.schema.json").read_text())
    enum = schema["properties"]["customers"]["properties"]["refuse_status"]["items"]["enum"]
    assert enum == list(CUSTOMER_STATUSES)


def test_each_change_is_kept_with_who_why_and_when(app_ctx, make_user):
    risk = db.session.get(User, make_user("risk1", roles=["risk"]))
    customer = new_customer("ST01")
    customers.update(customer, {"status": "warned", "reason": "两次逾期"}, actor=risk)
    customers.update(customer, {"status": "warned", "reason": "again"}, actor=risk)  # no change: no line
    customers.update(customer, {"status": "in_rectification", "reason": "整改"}, actor=risk)
    lines = [(c.before, c.after, c.reason, c.actor_id) for c in statuses.history(customer)]
    assert lines == [
        ("warned", "in_rectification", "整改", risk.id),
        ("active", "warned", "两次逾期", risk.id),
        (None, "active", "", None),
    ]
    audited = db.session.execute(
        sa.select(AuditEntry).where(
            AuditEntry.action == "customer.status", AuditEntry.object_id == str(customer.id)
        )
    ).scalars()
    assert [entry.after["reason"] for entry in audited] == ["两次逾期", "整改"]


def test_the_blacklist_keeps_reason_date_and_who_and_is_lifted_not_deleted(app_ctx, make_user, en):
    manager = db.session.get(User, make_user("manager1", roles=["manager"]))
    customer = new_customer("ST02")
    entry = statuses.add_to_blacklist(customer, "欺诈", actor=manager)
    assert customer.status == "blacklisted" and entry.listed_on and entry.actor_id == manager.id
    with pytest.raises(Conflict):
        statuses.add_to_blacklist(customer, "again", actor=manager)
    with pytest.raises(Invalid) as no_reason:
        statuses.lift_blacklist(customer, "  ", actor=manager)
    assert no_reason.value.errors[0]["pointer"] == "/reason"
    statuses.lift_blacklist(customer, "申诉成功", status="warned", actor=manager)
    assert customer.status == "warned" and statuses.current_entry(customer) is None
    [kept] = statuses.blacklist_entries(customer)
    assert (kept.reason, kept.lift_reason, kept.lifted_by_id) == ("欺诈", "申诉成功", manager.id)
    with pytest.raises(Conflict):
        statuses.lift_blacklist(customer, "x", actor=manager)


@pytest.mark.parametrize("status", ["offboarded", "blacklisted"])
def test_a_refused_status_stops_the_case_from_starting_with_a_clear_message(app_ctx, login_as, status):
    publish_refusing(["offboarded", "blacklisted"])
    customer = new_customer("ST03", "清退客户", "B")
    if status == "blacklisted":
        statuses.add_to_blacklist(customer, "恶意欠费")
    else:
        statuses.set_status(customer, status, reason="清退完成")
    db.session.commit()
    staff = login_as("staff")
    page = staff.get("/cases/new?process=t_refuse&customer=ST03")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "清退客户" in text and "ST03" in text and "测试缴费" in text
    if status == "blacklisted":
        assert "恶意欠费" in text  # the blacklist's reason is said
    form = staff.post_form("/cases/new?process=t_refuse&customer=ST03", {"amount": "10", "method": "bank"})
    assert form.status_code == 422


def test_the_api_refuses_at_customer_and_other_statuses_start(app, client, make_user):
    make_user("erp", roles=["staff"])
    with app.app_context():
        publish_refusing(["blacklisted"])
        customer = new_customer("ST04")
        statuses.set_status(customer, "offboarding", reason="清退中")
        blocked = new_customer("ST05")
        statuses.add_to_blacklist(blocked, "黑名单")
        plain, _token = users.create_token(users.find_user("erp"), "t")
        db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    body = {"process": "t_refuse", "data": {"amount": 5, "method": "bank"}}
    started = client.post("/api/v1/cases", json=body | {"customer": "ST04"}, headers=headers)
    assert started.status_code == 201  # offboarding is not refused by this process
    refused = client.post("/api/v1/cases", json=body | {"customer": "ST05"}, headers=headers)
    assert refused.status_code == 422
    [error] = refused.json["errors"]
    assert error["pointer"] == "/customer" and "ST05" in error["message"] and "黑名单" in error["message"]


def test_only_the_blacklist_moves_a_customer_on_or_off_it(app, client, make_user):
    make_user("erp2", roles=["staff"])
    with app.app_context():
        new_customer("ST06")
        listed = new_customer("ST07")
        statuses.add_to_blacklist(listed, "欺诈")
        plain, _token = users.create_token(users.find_user("erp2"), "t")
        db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    onto = client.patch(
        "/api/v1/customers/ST06", json={"status": "blacklisted", "name": "改名"}, headers=headers
    )
    off = client.patch("/api/v1/customers/ST07", json={"status": "active"}, headers=headers)
    assert (onto.status_code, off.status_code) == (422, 422)
    assert onto.json["errors"][0]["pointer"] == "/status" == off.json["errors"][0]["pointer"]
    created = client.post(
        "/api/v1/customers",
        json={"code": "ST08", "name": "x", "tier": "A", "status": "blacklisted"},
        headers=headers,
    )
    assert created.status_code == 422 and created.json["errors"][0]["pointer"] == "/status"
    with app.app_context():
        found = {c.code: c.status for c in db.session.execute(sa.select(Customer)).scalars()}
        assert found["ST06"] == "active" and found["ST07"] == "blacklisted" and "ST08" not in found
        assert db.session.execute(sa.select(Customer.name).where(Customer.code == "ST06")).scalar() != "改名"


def test_a_draft_made_before_the_customer_was_blacklisted_cannot_be_submitted(app_ctx, make_user):
    from formflow.cases import services as cases

    publish_refusing(["blacklisted"])
    staff = db.session.get(User, make_user("staff-st", roles=["staff"]))
    customer = new_customer("ST09")
    draft = cases.start("t_refuse", "ST09", {"amount": 5, "method": "bank"}, submit=False, actor=staff)
    statuses.add_to_blacklist(customer, "黑名单")
    with pytest.raises(Invalid) as refused:
        cases.save(draft, {"amount": 5, "method": "bank"}, submit=True, actor=staff)
    assert refused.value.errors[0]["pointer"] == "/customer"


def test_codes_differing_only_in_case_are_one_code(app_ctx, en):
    new_customer("ST10")
    with pytest.raises(Invalid) as refused:
        customers.create("st10", "x", "A")
    assert "ST10" in refused.value.errors[0]["message"]
