"""`flask --app wsgi formflow reconcile …` (added to the formflow group by formflow.cli): import a
bank statement, match what can be matched (with a progress bar, committing as it goes), close a
month."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

reconcile_group = AppGroup("reconcile", help="Bank reconciliation: statements, matching, the month close.")
#: lines matched between commits
CHUNK = 500


def _account(name: str):
    import sqlalchemy as sa

    from formflow.extensions import db
    from formflow.reconcile.models import BankAccount

    account = db.session.execute(sa.select(BankAccount).where(BankAccount.name == name)).scalar_one_or_none()
    if account is None:
        raise click.BadParameter(f"no bank account named {name!r}", param_hint="--account")
    return account


def _problems(errors) -> None:
    for error in errors:
        click.echo(f"{error.get('pointer') or '/'}: {error['message']}", err=True)


@reconcile_group.command("import")
@click.option("--account", "account_name", required=True, help="The bank account's name.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(account_name: str, file: Path) -> None:
    """Import a statement file (CSV or XLSX); lines already there are skipped. Exit 1 on bad rows."""
    from formflow.errors import Invalid
    from formflow.extensions import db
    from formflow.reconcile import importing

    account = _account(account_name)
    try:
        found = importing.preview(account, file.name, file.read_bytes(), actor=None)
        if found.problems:
            raise Invalid(found.problems)
        upload = importing.confirm(found.upload, actor=None)
    except Invalid as invalid:
        db.session.rollback()
        _problems(invalid.errors)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"{file.name}: {upload.added} new lines, {upload.skipped} there already.")


@reconcile_group.command("match")
@click.option("--account", "account_name", default=None, help="Only this bank account's lines.")
def match_command(account_name: str | None) -> None:
    """Match every unmatched line that can be matched, committing every CHUNK lines."""
    from formflow.extensions import db
    from formflow.reconcile import matching

    account_id = _account(account_name).id if account_name else None
    lines = matching.unmatched_lines(account_id=account_id, incoming_only=True)
    ids = [line.id for line in lines]
    matcher = matching.Matcher.load()
    matched = 0

    def run(progress) -> int:
        count = 0
        for start in range(0, len(ids), CHUNK):
            chunk = matching.lines_by_ids(ids[start : start + CHUNK])
            count += matcher.run(chunk, progress=progress)
            db.session.commit()
        return count

    if sys.stdout.isatty() and ids:
        with click.progressbar(length=len(ids), label="Bank lines", show_eta=True, show_percent=True) as bar:
            matched = run(bar.update)
    else:
        matched = run(None)
    click.echo(f"{matched} of {len(ids)} unmatched lines matched.")


@reconcile_group.command("close")
@click.argument("month")
@click.option(
    "--balance",
    "balances",
    multiple=True,
    metavar="ACCOUNT=AMOUNT",
    help="The bank's closing balance of an account (else its statement's).",
)
@click.option("--by", "username", required=True, help="Who closes it (a user name).")
def close_command(month: str, balances: tuple[str, ...], username: str) -> None:
    """Close MONTH (2026-11) when every check passes; exit 1 naming each failed check."""
    from formflow.auth import services as users
    from formflow.errors import DomainError, Invalid
    from formflow.extensions import db
    from formflow.reconcile import closing

    user = users.find_user(username)
    if user is None:
        raise click.BadParameter(f"no user named {username!r}", param_hint="--by")
    given = {}
    for item in balances:
        name, _sep, amount = item.partition("=")
        given[_account(name.strip()).id] = amount.strip()
    try:
        result = closing.close(month, given, actor=user)
    except Invalid as invalid:
        db.session.rollback()
        _problems(invalid.errors)
        raise SystemExit(1) from None
    except DomainError as refused:
        db.session.rollback()
        click.echo(refused.message, err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"{month} closed: the ledger's bank account {result.ledger_balance:,.2f} equals the bank's.")
