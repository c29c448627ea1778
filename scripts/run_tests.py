"""Run the suite on SQLite, then on PostgreSQL (FORMFLOW_TEST_DATABASE_URL).

PostgreSQL unreachable: a loud warning and SQLite only, unless FORMFLOW_REQUIRE_PG=1
(CI), which makes it a failure. Extra arguments go to pytest.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_reachable(url: str) -> str | None:
    """None when we can connect, else the reason."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any driver or network failure means "not reachable"
        return str(error).splitlines()[0]
    return None


def run_pytest(database: str, url: str | None, pytest_args: list[str]) -> int:
    env = dict(os.environ, FORMFLOW_TEST_DATABASE=database)
    if url:
        env["FORMFLOW_TEST_DATABASE_URL"] = url
    print(f"\n=== tests on {database} ===", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], env=env)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args, pytest_args = parser.parse_known_args()
    results: dict[str, int] = {}
    if args.only in (None, "sqlite"):
        results["sqlite"] = run_pytest("sqlite", None, pytest_args)
    if args.only in (None, "postgresql"):
        url = os.environ.get("FORMFLOW_TEST_DATABASE_URL") or DEFAULT_PG_URL
        problem = postgres_reachable(url)
        if problem is None:
            results["postgresql"] = run_pytest("postgresql", url, pytest_args)
        elif os.environ.get("FORMFLOW_REQUIRE_PG") == "1":
            print(f"\nERROR: PostgreSQL at {url} is unreachable ({problem}) and FORMFLOW_REQUIRE_PG=1.")
            results["postgresql"] = 1
        else:
            banner = "!" * 78
            print(f"\n{banner}\nWARNING: PostgreSQL at {url} is unreachable ({problem}).")
            print(f"Only SQLite was tested. Set FORMFLOW_TEST_DATABASE_URL or start PostgreSQL.\n{banner}")
    print(
        "\n"
        + ", ".join(f"{db}: {'passed' if rc == 0 else f'FAILED (exit {rc})'}" for db, rc in results.items())
    )
    return 0 if results and all(rc == 0 for rc in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
