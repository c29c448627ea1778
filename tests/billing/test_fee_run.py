"""The fee run: a plan's items charged for every period due, once (a rerun charges nothing), from
the prepaid balance, a short balance following the plan's policy; a dry run writes nothing; bad
plans and subscriptions are refused with their pointers; `formflow fees run` and `tick` run it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from support import nodes_together

from formflow.billing import fee_run, plans
from formflow.billing.models import FeeCharge
from formflow.customers import services as customers
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.ledger import services as ledger
from formflow.ledger.balances import balances
from formflow.ledger.models import Journal
from formflow.tables.services import create_global_table, save_global_table

TITLE = {"zh-CN": "月度管理费", "en": "Monthly management fee"}
MONTHLY = {"id": "monthly", "title": TITLE, "when": "period", "frequency": "monthly", "amount": "300.00"}
SETUP = {
    "id": "setup",
    "title": {"zh-CN": "开户费", "en": "Set-up fee"},
    "when": "signing",
    "amount": "500.00",
}


@pytest.fixture
def customer(app_ctx):
    found = customers.create("FR01", "管理费客户", "B")
    found.created_at = datetime(2025, 1, 1)
    ledger.post_for_customer(found, "top_up", Decimal("5000.00"), key="fr-top-up", memo="预存")
    db.session.commit()
    return found


def _charges() -> list[tuple[str, str, str, Decimal]]:
    return [
        (row.item, row.period, row.status, row.to_receivable)
        for row in db.session.execute(
            sa.select(FeeCharge).order_by(FeeCharge.item, FeeCharge.period)
        ).scalars()
    ]


def test_each_month_from_january_31_is_charged_once_and_a_rerun_charges_nothing(customer):
    plans.save_plan("basic", {"zh-CN": "基础", "en": "Basic"}, {"items": [MONTHLY, SETUP]})
    plans.subscribe(customer, "basic", date(2026, 1, 31))
    db.session.commit()
    report = fee_run.run_fees(date(2026, 4, 30))
    assert (report.posted, report.short, report.failed, report.charged) == (5, 0, 0, Decimal("1700.00"))
    assert [(item, period) for item, period, _s, _r in _charges()] == [
        ("monthly", "2026-01-31"), ("monthly", "2026-02-28"), ("monthly", "2026-03-31"),
        ("monthly", "2026-04-30"), ("setup", "signing"),
    ]  # fmt: skip
    assert balances(customer)["prepaid"] == Decimal("3300.00")
    again = fee_run.run_fees(date(2026, 4, 30))
    assert (again.posted, again.charged) == (0, Decimal("0.00"))
    assert balances(customer)["prepaid"] == Decimal("3300.00")
    keys = db.session.execute(
        sa.select(Journal.idempotency_key).where(Journal.kind == "management_fee")
    ).scalars()
    assert sorted(keys)[0].startswith("fee:") and len(list(_charges())) == 5


def test_a_short_balance_takes_what_is_there_and_puts_the_rest_on_the_receivable(customer):
    plans.save_plan("big", {"zh-CN": "大额", "en": "Big"}, {"items": [{**MONTHLY, "amount": "4000.00"}]})
    plans.subscribe(customer, "big", date(2026, 1, 1))
    db.session.commit()
    report = fee_run.run_fees(date(2026, 2, 1))
    assert (report.posted, report.short, report.to_receivable) == (1, 1, Decimal("3000.00"))
    assert balances(customer)["prepaid"] == Decimal("0.00")
    assert balances(customer)["receivable"] == Decimal("3000.00")
    assert _charges()[1][2:] == ("short", Decimal("3000.00"))


def test_the_receivable_policy_puts_the_whole_fee_there(customer):
    plans.save_plan(
        "billed", {"zh-CN": "记应收", "en": "Billed"}, {"items": [MONTHLY], "short": "receivable"}
    )
    plans.subscribe(customer, "billed", date(2026, 3, 1))
    db.session.commit()
    fee_run.run_fees(date(2026, 3, 1))
    assert balances(customer)["prepaid"] == Decimal("5000.00")
    assert balances(customer)["receivable"] == Decimal("300.00")


def test_the_amount_comes_from_the_tiers_row_unless_the_customer_has_their_own(customer):
    create_global_table(
        "management_fees", {"zh-CN": "管理费标准", "en": "Management fees"},
        [{"name": "tier", "type": "text"}, {"name": "quarterly", "type": "money"}], "tier",
    )  # fmt: skip
    save_global_table("management_fees", [["A", 900], ["B", 600], ["C", 300]], expected_number=1)
    item = {
        **MONTHLY,
        "id": "quarterly",
        "frequency": "quarterly",
        "amount": {"table": "management_fees", "column": "quarterly"},
    }
    plans.save_plan("tiered", {"zh-CN": "按等级", "en": "By tier"}, {"items": [item]})
    other = customers.create("FR02", "自定价客户", "B")
    other.created_at = datetime(2025, 1, 1)
    plans.subscribe(customer, "tiered", date(2026, 1, 1))
    plans.subscribe(other, "tiered", date(2026, 1, 1), overrides={"quarterly": "450.00"})
    db.session.commit()
    report = fee_run.run_fees(date(2026, 7, 1))  # Jan, Apr, Jul
    assert report.charged == Decimal("600.00") * 3 + Decimal("450.00") * 3


def test_a_partial_first_month_is_charged_by_days(customer):
    plans.save_plan(
        "prorata",
        {"zh-CN": "按天", "en": "Pro rata"},
        {"items": [{**MONTHLY, "amount": "310.00", "prorate": True}]},
    )
    plans.subscribe(customer, "prorata", date(2026, 1, 15), anchor_day=1)
    db.session.commit()
    report = fee_run.run_fees(date(2026, 2, 1))
    assert report.charged == Decimal("170.00") + Decimal("310.00")  # 17 of January's 31 days, then February


def test_a_dry_run_lists_the_charges_and_writes_nothing(customer):
    plans.save_plan("basic", {"zh-CN": "基础", "en": "Basic"}, {"items": [MONTHLY]})
    plans.subscribe(customer, "basic", date(2026, 1, 1))
    db.session.commit()
    report = fee_run.run_fees(date(2026, 3, 1), dry_run=True)
    assert [(due.customer_code, due.period, due.amount) for due in report.dues] == [
        ("FR01", "2026-01-01", Decimal("300.00")), ("FR01", "2026-02-01", Decimal("300.00")),
        ("FR01", "2026-03-01", Decimal("300.00")),
    ]  # fmt: skip
    assert _charges() == [] and balances(customer)["prepaid"] == Decimal("5000.00")


def test_an_ended_subscription_stops_charging_and_a_future_one_has_not_begun(customer):
    plans.save_plan("basic", {"zh-CN": "基础", "en": "Basic"}, {"items": [MONTHLY]})
    plans.subscribe(customer, "basic", date(2026, 1, 1), end=date(2026, 3, 1))
    plans.subscribe(customer, "basic", date(2027, 1, 1))
    db.session.commit()
    assert fee_run.run_fees(date(2026, 12, 1)).charged == Decimal("600.00")


@pytest.mark.parametrize(
    ("definition", "pointer"),
    [
        ({"items": [MONTHLY, {**MONTHLY, "id": "monthly"}]}, "/items/1/id"),
        ({"items": [MONTHLY, {**MONTHLY, "id": "second"}]}, "/items"),
        ({"items": [{**MONTHLY, "frequency": "weekly"}]}, "/items/0/frequency"),
        (
            {"items": [{key: value for key, value in MONTHLY.items() if key != "frequency"}]},
            "/items/0/frequency",
        ),
        ({"items": [{**MONTHLY, "amount": "0.00"}]}, "/items/0/amount"),
        ({"items": [{**MONTHLY, "amount": "12.345"}]}, "/items/0/amount"),
        ({"items": []}, "/items"),
    ],
)
def test_a_bad_plan_is_refused_with_its_pointer(app_ctx, definition, pointer):
    with pytest.raises(Invalid) as refused:
        plans.save_plan("bad", {"zh-CN": "坏", "en": "Bad"}, definition)
    assert pointer in [error["pointer"] for error in refused.value.errors]


def test_a_subscription_before_the_customer_existed_or_ending_before_it_starts_is_refused(app_ctx):
    late = customers.create("FR09", "新客户", "A")
    plans.save_plan("basic", {"zh-CN": "基础", "en": "Basic"}, {"items": [MONTHLY]})
    with pytest.raises(Invalid) as refused:
        plans.subscribe(late, "basic", date(2020, 1, 1), end=date(2019, 1, 1), overrides={"nope": "1"})
    assert {error["pointer"] for error in refused.value.errors} == {
        "/start_date",
        "/end_date",
        "/overrides/nope",
    }


def test_the_cli_runs_it_and_tick_runs_it_too(app, customer):
    plans.save_plan("basic", {"zh-CN": "基础", "en": "Basic"}, {"items": [MONTHLY]})
    plans.subscribe(customer, "basic", date(2026, 1, 1))
    db.session.commit()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["formflow", "fees", "run", "--now", "2026-02-01", "--dry-run"])
    assert (
        dry.exit_code == 0
        and "FR01  monthly  2026-02-01  300.00" in dry.output
        and "nothing written" in dry.output
    )
    done = runner.invoke(args=["formflow", "fees", "run", "--now", "2026-02-01"])
    assert done.exit_code == 0 and "2 posted" in done.output, done.output
    ticked = runner.invoke(args=["formflow", "tick", "--now", "2026-03-01T09:00"])
    assert ticked.exit_code == 0 and "charge_fees:" in ticked.output, ticked.output
    assert len(_charges()) == 3
    bad = runner.invoke(args=["formflow", "fees", "run", "--now", "soon"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


@pytest.mark.live_db
def test_nodes_running_the_fee_run_together_charge_each_period_once(live_app):
    count, nodes = 8, 3
    with live_app.app_context():
        plans.save_plan("basic", {"zh-CN": "基础", "en": "Basic"}, {"items": [MONTHLY]})
        for number in range(count):
            found = customers.create(f"FRN{number}", f"并发客户{number}", "B")
            found.created_at = datetime(2025, 1, 1)
            ledger.post_for_customer(found, "top_up", Decimal("1000.00"), key=f"frn-{number}", memo="预存")
            plans.subscribe(found, "basic", date(2026, 1, 1))
        db.session.commit()
    reports, failures = nodes_together(live_app, lambda: fee_run.run_fees(date(2026, 3, 15)), nodes)
    assert failures == [] and len(reports) == nodes
    assert sum(report.posted for report in reports) == count * 3  # January, February, March
    with live_app.app_context():
        assert len(_charges()) == count * 3
        journals = db.session.execute(
            sa.select(sa.func.count()).select_from(Journal).where(Journal.kind == "management_fee")
        ).scalar_one()
        assert journals == count * 3
        for number in range(count):
            assert balances(customers.get_by_code(f"FRN{number}"))["prepaid"] == Decimal("100.00")


@pytest.mark.live_db
def test_a_run_killed_half_way_and_run_again_charges_each_period_once(live_app, tmp_path):
    """`formflow fees run` in a process of its own, killed with SIGKILL once its first chunk is
    committed: the chunk it was in is rolled back by the database, and the next run charges
    what is left — every period of every subscription once."""
    import os
    import signal
    import subprocess
    import sys
    from urllib.parse import quote

    count = fee_run.CHUNK * 6
    with live_app.app_context():
        plans.save_plan("basic", {"zh-CN": "基础", "en": "Basic"}, {"items": [MONTHLY]})
        for number in range(count):
            found = customers.create(f"FK{number:04d}", f"中断客户{number}", "B")
            found.created_at = datetime(2025, 1, 1)
            ledger.post_for_customer(found, "top_up", Decimal("1000.00"), key=f"fk-{number}", memo="预存")
            plans.subscribe(found, "basic", date(2026, 1, 1))
        db.session.commit()
        url = db.engine.url.render_as_string(hide_password=False)
        options = live_app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {}).get("options")
    if options:  # PostgreSQL: the test's own schema, as the search path
        url += ("&" if "?" in url else "?") + "options=" + quote(options)
    env = {**os.environ, "FORMFLOW_DATABASE_URL": url, "FORMFLOW_SECRET_KEY": "kill-test",
           "FORMFLOW_INSTANCE_DIR": str(tmp_path / "instance"), "PYTHONUNBUFFERED": "1"}  # fmt: skip
    run = subprocess.Popen(
        [sys.executable, "-m", "formflow", "fees", "run", "--now", "2026-03-15"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines = []
    for line in run.stdout:  # the first chunk is committed: kill it in the middle of the next
        lines.append(line)
        if "subscriptions done" in line:
            run.send_signal(signal.SIGKILL)
            break
    run.wait(timeout=60)
    run.stdout.close()
    assert run.returncode == -signal.SIGKILL, "".join(lines)  # killed, not finished
    expected = count * 3
    with live_app.app_context():
        charged = db.session.execute(sa.select(sa.func.count()).select_from(FeeCharge)).scalar_one()
        assert fee_run.CHUNK * 3 <= charged < expected  # what it committed stays; the rest is not there
    with live_app.app_context():
        report = fee_run.run_fees(date(2026, 3, 15))
        assert report.failed == 0
        assert db.session.execute(sa.select(sa.func.count()).select_from(FeeCharge)).scalar_one() == expected
        journals = db.session.execute(
            sa.select(sa.func.count()).select_from(Journal).where(Journal.kind == "management_fee")
        ).scalar_one()
        assert journals == expected
        assert balances(customers.get_by_code("FK0000"))["prepaid"] == Decimal("100.00")
        assert balances(customers.get_by_code(f"FK{count - 1:04d}"))["prepaid"] == Decimal("100.00")


def test_a_charge_the_ledger_refuses_is_recorded_as_failed_the_rest_of_its_chunk_posted_and_retried(customer):
    plans.save_plan("refused", {"zh-CN": "拒绝", "en": "Refused"}, {"items": [MONTHLY]})
    other = customers.create("FR02", "另一客户", "B")
    other.created_at = datetime(2025, 1, 1)
    with pytest.raises(Invalid):  # more than the ledger takes: refused when subscribing
        plans.subscribe(customer, "refused", date(2026, 1, 1), overrides={"monthly": "5E+15"})
    too_big = plans.subscribe(customer, "refused", date(2026, 1, 1))
    too_big.overrides = {"monthly": "5E+15"}  # as a row written before that check would read
    plans.subscribe(other, "refused", date(2026, 1, 1))  # the same chunk, nothing prepaid: invoiced
    db.session.commit()
    report = fee_run.run_fees(date(2026, 2, 1))
    assert (report.posted, report.short, report.failed) == (0, 2, 2)
    failed = db.session.execute(sa.select(FeeCharge).where(FeeCharge.status == "failed")).scalars().all()
    assert {row.subscription_id for row in failed} == {too_big.id}
    assert all("不是有效的金额" in row.message for row in failed)  # the ledger's reason (zh-CN)
    assert db.session.execute(sa.select(sa.func.count(Journal.id))).scalar_one() == 3  # top-up + two charges
    too_big.overrides = {"monthly": "250.00"}
    db.session.commit()
    again = fee_run.run_fees(date(2026, 2, 1))
    assert (again.posted, again.failed, again.charged) == (2, 0, Decimal("500.00"))
    statuses = db.session.execute(
        sa.select(FeeCharge.status).where(FeeCharge.subscription_id == too_big.id)
    ).scalars()
    assert sorted(statuses) == ["posted", "posted"]
    assert balances(customer)["prepaid"] == Decimal("4500.00")
