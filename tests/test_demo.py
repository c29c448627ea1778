"""`formflow demo`: demo users on each role with password `demo`, customers on tiers A/B/C; idempotent."""

from __future__ import annotations

import sqlalchemy as sa

from formflow.audit.models import AuditEntry
from formflow.auth.models import User
from formflow.auth.permissions import ROLES
from formflow.customers.models import Customer
from formflow.extensions import db


def _counts(app):
    with app.app_context():
        return tuple(
            db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
            for model in (User, Customer, AuditEntry)
        )


def test_demo_loads_once_and_changes_nothing_the_second_time(app, cli):
    first = cli("demo")
    assert first.exit_code == 0
    assert "demo" in first.output and "WARNING" in first.output
    after_first = _counts(app)
    assert after_first[0] == len(ROLES)
    with app.app_context():
        tiers = set(db.session.execute(sa.select(Customer.tier)).scalars())
    assert tiers == {"A", "B", "C"}
    second = cli("demo")
    assert second.exit_code == 0 and "0 new records" in second.output
    assert _counts(app) == after_first


def test_demo_logins_work_for_every_role(app, cli, client):
    cli("demo")
    for role in ROLES:
        response = client.login(role, "demo")
        assert response.status_code == 302, role
        assert client.get("/").status_code == 200
        client.post_form("/auth/logout")


def test_create_user_cli(app, cli):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["formflow", "create-user", "carol", "--role", "finance", "--role", "risk"],
        input="carol-pass-1\ncarol-pass-1\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        from formflow.auth.services import find_user

        assert find_user("carol").role_names == ["finance", "risk"]
    bad = runner.invoke(
        args=["formflow", "create-user", "dan", "--role", "wizard"], input="dan-pass-12\ndan-pass-12\n"
    )
    assert bad.exit_code == 1 and "/roles" in bad.output


def test_demo_customers_have_a_contact_and_tiers_have_low_balance_thresholds(app, cli, login_as):
    from decimal import Decimal

    from formflow import tables
    from formflow.ledger.alerts import THRESHOLD_TABLE
    from formflow.tables.cells import columns_of

    cli("demo")
    with app.app_context():
        first = db.session.execute(sa.select(Customer).where(Customer.code == "C001")).scalar_one()
        assert first.contact_list()[0]["person"] and first.contact_list()[0]["phone"]
        latest = tables.latest_global_version(tables.get_global_table(THRESHOLD_TABLE))
        assert {row[0]: Decimal(str(row[1])) for row in latest.rows} == {
            "A": Decimal("10000"), "B": Decimal("5000"), "C": Decimal("1000"),
        }  # fmt: skip
        assert [column.label("zh_CN") for column in columns_of(latest.as_table())] == [
            "客户等级",
            "预存余额预警线",
        ]


def test_a_global_table_column_title_must_name_both_languages_shortly(app_ctx):
    import pytest

    from formflow import tables
    from formflow.errors import Invalid

    columns = [{"name": "tier", "type": "text", "title": {"zh-CN": ""}}, {"name": "n", "title": "x"}]
    with pytest.raises(Invalid) as refused:
        tables.create_global_table("titled_table", {"zh-CN": "表", "en": "Table"}, columns, "tier")
    assert [e["pointer"] for e in refused.value.errors] == ["/columns/0/title", "/columns/1/title"]
