"""The effects registry: config checks with pointers, `run_effects` in the action's
transaction (audit-recorded, all-or-nothing), and set_field, customer.set_status, start_case."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from workflows.effects_support import CUSTOMER, new_case, publish_with, spec_with, walk, world

from formflow.audit.models import AuditEntry
from formflow.cases.models import Case
from formflow.customers import statuses
from formflow.customers.models import Customer
from formflow.effects import EFFECTS, check_effect
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.processes.form_rules import known_vars, spec_tables
from formflow.workflows import effects
from formflow.workflows.effects import run_effects
from formflow.workflows.models import Notification

NOW = datetime(2026, 3, 2, 9, 30)


@pytest.fixture
def people(app_ctx):
    return world()


def _audit(action: str, object_type: str = "case") -> list[AuditEntry]:
    return list(
        db.session.execute(
            sa.select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.object_type == object_type)
            .order_by(AuditEntry.seq)
        ).scalars()
    )


# --- the registry and checks --------------------------------------------------------------------


def test_the_registry_has_every_effect():
    assert sorted(EFFECTS) == [
        "billing.register_payment",
        "billing.subscribe",
        "customer.set_status",
        "ledger.post",
        "ledger.reverse",
        "notify",
        "set_field",
        "start_case",
        "webhook",
    ]
    for entry in EFFECTS.values():
        assert entry.schema["properties"]["effect"] == {"const": entry.name}
        assert entry.schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("config", "pointers"),
    [
        ({"effect": "notify", "to": {"role": "finance"}, "template": "t"}, []),
        ({"effect": "teleport"}, ["/effect"]),
        ({"effect": "ledger.post", "amount": 1}, ["/kind"]),
        (
            {"effect": "ledger.post", "kind": "deduction", "amount": {"var": "data.amount"}, "short": "x"},
            ["/short"],
        ),
        ({"to": "customer"}, ["/effect"]),
        ("notify", [""]),
        ({"effect": "notify", "to": {"role": "nobody"}, "template": "t"}, ["/to/role"]),
        ({"effect": "notify", "to": "everyone", "template": "t"}, ["/to"]),
        ({"effect": "notify", "to": {"role": "finance", "user": "x"}, "template": "t"}, ["/to"]),
        ({"effect": "notify", "to": "customer"}, ["/template"]),
        ({"effect": "notify", "to": "initiator", "template": "t", "cc": "x"}, ["/cc"]),
        ({"effect": "set_field", "field": "amount", "value": 1}, ["/field"]),
        ({"effect": "set_field", "field": "/rows/*/x", "value": 1}, ["/field"]),
        ({"effect": "set_field", "field": "/fee"}, ["/value"]),
        ({"effect": "set_field", "field": "/fee", "value": {"nope": [1]}}, ["/value"]),
        ({"effect": "set_field", "field": "/fee", "value": {"*": [{"var": "data.amount"}, 0.06]}}, []),
        ({"effect": "customer.set_status", "status": "gone"}, ["/status"]),
        ({"effect": "customer.set_status", "status": "blacklisted"}, []),
        ({"effect": "start_case", "process": ""}, ["/process"]),
        ({"effect": "start_case", "process": "d", "data": {"amount": 1}}, ["/data"]),
        ({"effect": "start_case", "process": "d", "data": {"/amount": {"bogus": []}}}, ["/data/~1amount"]),
        ({"effect": "webhook", "url": "ftp://example.test/x", "event": "case.executed"}, ["/url"]),
        ({"effect": "webhook", "url": "https://example.test/x", "event": "has space"}, ["/event"]),
        ({"effect": "webhook", "url": "https://example.test/x"}, ["/event"]),
    ],
)
def test_check_effect_points_into_the_config(app_ctx, config, pointers):
    assert sorted({p["pointer"] for p in check_effect(config)}) == sorted(pointers)
    assert all(p["message"] for p in check_effect(config))


def test_check_with_the_spec_knows_fields_templates_and_variables(app_ctx):
    spec = spec_with({})
    variables, tables = known_vars(spec), {name: t["columns"] for name, t in spec_tables(spec).items()}

    def problems(config):
        found = check_effect(config, spec, known_vars=variables, tables=tables)
        return [(p["pointer"], p["message"]) for p in found]

    assert problems({"effect": "set_field", "field": "/nowhere", "value": 1})[0][0] == "/field"
    assert (
        problems({"effect": "set_field", "field": "/fee", "value": {"var": "data.amont"}})[0][0]
        == "/value/var"
    )
    assert (
        problems({"effect": "notify", "to": {"role": "finance"}, "template": "missing"})[0][0] == "/template"
    )
    assert problems({"effect": "notify", "to": {"field": "/nobody"}, "template": "review_needed"})[0][0] == (
        "/to/field"
    )
    assert problems({"effect": "notify", "to": "customer", "template": "deduction_notice"}) == []
    # a notice to the customer must carry reasons, amounts, rights, appeal and contact
    [(pointer, message)] = problems({"effect": "notify", "to": "customer", "template": "review_needed"})
    assert pointer == "/template"
    for section in ("reasons", "amounts", "rights", "appeal", "contact"):
        assert section in message


def test_the_lead_checker_prefixes_pointers_per_state(app_ctx):
    from formflow.processes.workflow_checks import check_workflow

    spec = spec_with({"hook": {"on_enter": [{"effect": "webhook", "url": "nope", "event": "e"}]}})
    pointers = [p["pointer"] for p in check_workflow(spec)]
    assert "/workflow/states/hook/on_enter/0/url" in pointers


# --- running ------------------------------------------------------------------------------------


def test_effects_run_in_order_and_each_is_audited(people):
    publish_with(
        {
            "executed": {
                "on_enter": [
                    {"effect": "set_field", "field": "/fee", "value": {"*": [{"var": "data.amount"}, 0.06]}},
                    {
                        "effect": "set_field",
                        "field": "/note",
                        "value": {"cat": ["fee ", {"var": "data.fee"}]},
                    },
                ]
            }
        }
    )
    case = new_case(people["staff"], {"amount": Decimal("1234.55")})
    walk(case, "executed", people["staff"], now=NOW)
    assert case.data["fee"] == Decimal("74.07") and isinstance(case.data["fee"], Decimal)
    assert case.data["note"] == "fee 74.07"  # the second effect saw the first one's value
    entries = [e for e in _audit("case.effect") if e.object_id == str(case.id)]
    assert [(e.after["index"], e.after["effect"]) for e in entries] == [(0, "set_field"), (1, "set_field")]
    assert entries[0].after["outcome"] == {"field": "/fee", "before": None, "after": "74.07"}
    assert entries[0].after["config"]["field"] == "/fee" and entries[0].actor_name == "fx-staff"
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Case, case.id).data["fee"] == Decimal("74.07")


def test_set_field_converts_money_exactly_and_dates(people):
    publish_with(
        {
            "executed": {
                "on_enter": [
                    {"effect": "set_field", "field": "/fee", "value": {"/": [{"var": "data.amount"}, 3]}},
                    {"effect": "set_field", "field": "/executed_on", "value": {"today": []}},
                ]
            }
        }
    )
    case = new_case(people["staff"], {"amount": Decimal("100.00")})
    walk(case, "executed", people["staff"])
    assert case.data["fee"] == Decimal("33.33")
    assert len(case.data["executed_on"]) == 10 and case.data["executed_on"][4] == "-"


def test_set_field_refuses_a_value_the_field_does_not_allow(people):
    publish_with({"executed": {"on_enter": [{"effect": "set_field", "field": "/reason", "value": "whim"}]}})
    case = new_case(people["staff"])
    with pytest.raises(Invalid) as refused:
        walk(case, "executed", people["staff"])
    [error] = refused.value.errors
    assert error["pointer"] == "/workflow/states/executed/on_enter/0/value"
    assert "set_field" in error["message"] and "/reason" in error["message"]


def test_customer_set_status_records_before_and_after_on_the_customer(people):
    publish_with({"offboarded": {"on_enter": [{"effect": "customer.set_status", "status": "offboarded"}]}})
    case = new_case(people["staff"])
    walk(case, "offboarded", people["staff"])
    customer = db.session.execute(sa.select(Customer).where(Customer.code == CUSTOMER)).scalar_one()
    assert customer.status == "offboarded"
    [entry] = [e for e in _audit("customer.status", "customer") if e.object_id == str(customer.id)]
    assert entry.before == {"status": "active"}
    assert entry.after["status"] == "offboarded" and entry.after["case"] == case.id
    [change] = [c for c in statuses.history(customer) if c.after == "offboarded"]
    assert (change.before, change.case_id, change.actor_id) == ("active", case.id, people["staff"].id)
    assert f"#{case.id}" in change.reason  # the default reason names the deciding case


def test_a_blacklisting_case_puts_the_customer_on_the_blacklist_naming_itself(people):
    reason = {"zh-CN": "清退标准：连续逾期", "en": "Offboarding criteria: late payments"}
    publish_with(
        {
            "offboarded": {
                "on_enter": [{"effect": "customer.set_status", "status": "blacklisted", "reason": reason}]
            }
        }
    )
    case = new_case(people["staff"])
    walk(case, "offboarded", people["staff"])
    customer = db.session.execute(sa.select(Customer).where(Customer.code == CUSTOMER)).scalar_one()
    entry = statuses.current_entry(customer)
    assert customer.status == "blacklisted"
    assert (entry.case_id, entry.reason, entry.actor_id) == (
        case.id,
        "清退标准：连续逾期",
        people["staff"].id,
    )
    assert statuses.history(customer)[0].case_id == case.id


def test_a_status_effect_never_takes_a_customer_off_the_blacklist(people):
    publish_with(
        {"offboarded": {"on_enter": [{"effect": "customer.set_status", "status": "in_rectification"}]}}
    )
    case = new_case(people["staff"])
    customer = db.session.execute(sa.select(Customer).where(Customer.code == CUSTOMER)).scalar_one()
    statuses.add_to_blacklist(customer, "人工列入")
    walk(case, "offboarded", people["staff"])
    assert customer.status == "blacklisted" and statuses.current_entry(customer) is not None


DISPUTE = {
    "formflow": 1,
    "key": "fx_dispute",
    "category": "deduction",
    "name": {"zh-CN": "异议", "en": "Dispute"},
    "form": {
        "schema": {
            "type": "object",
            "required": ["statement"],
            "properties": {
                "parent_case": {"type": "integer"},
                "amount": {"type": "number", "multipleOf": 0.01},
                "statement": {"type": "string"},
            },
        }
    },
    "workflow": {
        "start": "open",
        "states": {
            "open": {
                "kind": "form",
                "on_enter": [{"effect": "set_field", "field": "/statement", "value": "（待客户填写）"}],
                "actions": {"close": {"to": "closed", "roles": ["staff"]}},
            },
            "closed": {"kind": "final"},
        },
    },
}


def test_start_case_opens_a_linked_case_of_another_process_whose_workflow_starts(people):
    from formflow.processes import services as processes

    processes.import_spec(DISPUTE)
    processes.publish("fx_dispute")
    publish_with(
        {
            "disputed": {
                "on_enter": [
                    {
                        "effect": "start_case",
                        "process": "fx_dispute",
                        "data": {"/amount": {"var": "data.amount"}},
                    }
                ]
            }
        }
    )
    case = new_case(people["staff"])
    walk(case, "disputed", people["staff"], now=NOW)
    [effect_entry] = [e for e in _audit("case.effect") if e.object_id == str(case.id)]
    child = db.session.get(Case, effect_entry.after["outcome"]["case"])
    assert child.process.key == "fx_dispute" and child.customer.code == CUSTOMER
    assert child.data["parent_case"] == case.id and child.data["amount"] == Decimal("3000.00")
    assert child.state == "open" and child.state_round == 1
    assert child.data["statement"] == "（待客户填写）"  # its own on_enter ran
    assert child.created_by_id == case.created_by_id and child.submitted_at is None
    created = [e for e in _audit("case.create") if e.object_id == str(child.id)]
    assert created[0].after["parent_case"] == case.id


def test_start_case_of_an_unpublished_process_fails_with_a_pointer(people):
    publish_with({"disputed": {"on_enter": [{"effect": "start_case", "process": "fx_nowhere"}]}})
    case = new_case(people["staff"])
    with pytest.raises(Invalid) as refused:
        walk(case, "disputed", people["staff"])
    assert refused.value.errors[0]["pointer"] == "/workflow/states/disputed/on_enter/0/process"


def test_cases_starting_themselves_stop_at_the_nesting_limit(people):
    from formflow.processes import services as processes

    looping = {
        **DISPUTE,
        "key": "fx_loop",
        "workflow": {
            "start": "open",
            "states": {
                "open": {
                    "kind": "form",
                    "on_enter": [{"effect": "start_case", "process": "fx_loop"}],
                    "actions": {"close": {"to": "closed", "roles": ["staff"]}},
                },
                "closed": {"kind": "final"},
            },
        },
    }
    processes.import_spec(looping)
    processes.publish("fx_loop")
    db.session.commit()
    before = db.session.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one()
    with pytest.raises(Invalid, match=str(effects.MAX_NESTING)):
        new_case(people["staff"], {"statement": "x"}, key="fx_loop")
    db.session.rollback()
    assert db.session.execute(sa.select(sa.func.count()).select_from(Case)).scalar_one() == before


# --- all or nothing -------------------------------------------------------------------------------


def _counts(case_id: int) -> tuple[int, int]:
    notifications = db.session.execute(
        sa.select(sa.func.count()).select_from(Notification).where(Notification.case_id == case_id)
    ).scalar_one()
    entries = db.session.execute(
        sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.object_id == str(case_id))
    ).scalar_one()
    return notifications, entries


def test_a_failing_effect_rolls_back_the_whole_action(people):
    publish_with(
        {
            "executed": {
                "on_enter": [
                    {"effect": "set_field", "field": "/note", "value": "done"},
                    {"effect": "notify", "to": {"role": "finance"}, "template": "review_needed"},
                    {"effect": "customer.set_status", "status": "in_rectification"},
                    {"effect": "notify", "to": {"user": "fx-nobody"}, "template": "review_needed"},
                ]
            }
        }
    )
    case = new_case(people["staff"])
    case_id, before = case.id, _counts(case.id)
    with pytest.raises(Invalid) as refused:
        walk(case, "executed", people["staff"])
    assert refused.value.errors[0]["pointer"] == "/workflow/states/executed/on_enter/3/to/user"
    assert "fx-nobody" in refused.value.errors[0]["message"]
    db.session.rollback()  # what the request / CLI edge does with any exception
    db.session.expire_all()
    stored = db.session.get(Case, case_id)
    assert stored.state == "draft" and "note" not in stored.data
    assert stored.customer.status == "active"
    assert _counts(case_id) == before


def test_run_effects_joins_the_callers_transaction(people):
    """Effects that succeeded disappear when the caller's unit of work fails afterwards."""
    publish_with(
        {"executed": {"on_enter": [{"effect": "notify", "to": "initiator", "template": "review_needed"}]}}
    )
    case = new_case(people["staff"])
    case_id, before = case.id, _counts(case.id)
    with pytest.raises(RuntimeError):
        outcomes = run_effects(case, "executed", people["staff"], NOW)
        assert len(outcomes[0]["notifications"]) == 1
        assert _counts(case_id) == (before[0] + 1, before[1] + 1)
        raise RuntimeError("the caller fails after the effects")
    db.session.rollback()
    assert _counts(case_id) == before


def test_an_unknown_effect_in_a_published_spec_fails_loudly(people):
    publish_with({"executed": {"on_enter": []}})
    case = new_case(people["staff"])
    case.version.spec = {
        **case.version.spec,
        "workflow": {
            **case.version.spec["workflow"],
            "states": {
                **case.version.spec["workflow"]["states"],
                "executed": {"on_enter": [{"effect": "teleport"}], "kind": "automatic"},
            },
        },
    }
    with pytest.raises(Invalid) as refused:
        run_effects(case, "executed", people["staff"], NOW)
    assert refused.value.errors[0]["pointer"] == "/workflow/states/executed/on_enter/0/effect"
    db.session.rollback()
