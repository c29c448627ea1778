"""`flask --app wsgi formflow ledger …` (added to the formflow group by formflow.cli)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

ledger_group = AppGroup("ledger", help="The double-entry ledger.")


@ledger_group.command("verify")
def ledger_verify() -> None:
    """Every journal sums to zero, every balance is its entries' sum; exit 1 naming the first bad one."""
    from formflow.ledger.verify import verify

    result = verify()
    if not result.ok:
        click.echo(f"FAIL: {result.problem}", err=True)
        raise SystemExit(1)
    click.echo(f"OK: {result.journals} journals, {result.accounts} accounts, every balance adds up.")
