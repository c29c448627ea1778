"""Migrations produce exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade
from support import fresh_database, make_app, migrate_to_head

from formflow.audit.models import CHAINS
from formflow.extensions import db


def test_upgrade_gives_the_models_schema_and_downgrade_removes_it(tmp_path):
    with fresh_database(tmp_path) as database:
        app = make_app(database, tmp_path)
        migrate_to_head(app)
        with app.app_context():
            engine = sa.create_engine(database.url, **database.engine_options)
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                diff = compare_metadata(context, db.metadata)
                head = connection.execute(sa.text("SELECT id, last_seq FROM audit_head ORDER BY id")).all()
            assert diff == []
            assert [tuple(row) for row in head] == [(chain, 0) for chain in range(1, CHAINS + 1)]

            downgrade(directory=app.config["MIGRATIONS_DIR"], revision="base")
            with engine.connect() as connection:
                left = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
            engine.dispose()
            db.engine.dispose()
            assert left == set()


def test_constraint_names_follow_the_naming_convention(app):
    names = set()
    for table in db.metadata.tables.values():
        names |= {c.name for c in table.constraints} | {i.name for i in table.indexes}
    assert "uq_user_account_username" in names
    assert "fk_api_token_user_id_user_account" in names
    assert all(name for name in names)


def test_0010_keeps_what_customers_had_tiers_history_and_the_blacklisted(tmp_path):
    """Customers from before 0010: their tiers join the tier list, each present status is the
    first line of its history, and one already blacklisted gets a blacklist entry."""
    from flask_migrate import upgrade

    with fresh_database(tmp_path) as database:
        app = make_app(database, tmp_path)
        with app.app_context():
            upgrade(directory=app.config["MIGRATIONS_DIR"], revision="0009_ledger")
            engine = sa.create_engine(database.url, **database.engine_options)
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO customer (code, name, tier, status, created_at) VALUES "
                        "('M1', '甲', 'A', 'active', '2026-01-01'),"
                        " ('M2', '乙', '金牌', 'blacklisted', '2026-01-02')"
                    )
                )
            upgrade(directory=app.config["MIGRATIONS_DIR"])
            with engine.connect() as connection:
                tiers = connection.execute(
                    sa.text("SELECT code FROM customer_tier ORDER BY position")
                ).scalars()
                history = connection.execute(
                    sa.text("SELECT after FROM customer_status_change ORDER BY customer_id")
                ).scalars()
                listed = connection.execute(
                    sa.text("SELECT c.code FROM customer_blacklist b JOIN customer c ON c.id = b.customer_id")
                ).scalars()
                assert (list(tiers), list(history), list(listed)) == (
                    ["A", "B", "C", "金牌"],
                    ["active", "blacklisted"],
                    ["M2"],
                )
            engine.dispose()
            db.engine.dispose()


def test_0013_gives_each_draft_its_present_spec_as_revision_1(tmp_path):
    from flask_migrate import upgrade

    with fresh_database(tmp_path) as database:
        app = make_app(database, tmp_path)
        with app.app_context():
            upgrade(directory=app.config["MIGRATIONS_DIR"], revision="0012_audit_chains")
            engine = sa.create_engine(database.url, **database.engine_options)
            with engine.begin() as connection:
                process = connection.execute(
                    sa.text(
                        "INSERT INTO process (key, category, name_zh, name_en, created_at)"
                        " VALUES ('p', 'other', '甲', 'P', '2026-01-01') RETURNING id"
                    )
                ).scalar_one()
                insert = sa.text(
                    "INSERT INTO process_version (process_id, number, spec, sha256, status, created_at)"
                    " VALUES (:p, :n, :spec, :sha, :status, '2026-01-02')"
                )
                for number, status in ((1, "published"), (2, "draft")):
                    spec, sha = f'{{"v": {number}}}', str(number) * 64
                    connection.execute(
                        insert, {"p": process, "n": number, "spec": spec, "sha": sha, "status": status}
                    )
            upgrade(directory=app.config["MIGRATIONS_DIR"])
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.text("SELECT number, sha256, source FROM process_draft_revision")
                ).all()
            engine.dispose()
            db.engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "2" * 64, "import")]
