"""`flask --app wsgi formflow …` (also `python -m formflow …`): the operations CLI."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from formflow.extensions import db

formflow_group = AppGroup("formflow", help="Formflow operations.")


@formflow_group.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("Database is at the latest migration.")


@formflow_group.command("demo")
def demo() -> None:
    """Load demo users, customers and the templates in configs/ (idempotent)."""
    from formflow.demo import DEMO_PASSWORD, load_demo

    created = load_demo(echo=click.echo)
    db.session.commit()
    click.echo(f"Demo data loaded ({created} new records).")
    click.secho(
        f"WARNING: demo users have the password {DEMO_PASSWORD!r}. Never load demo data "
        "into a production database.",
        fg="yellow",
        err=True,
    )


@formflow_group.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--display-name", default="")
@click.option("--email", default=None)
@click.password_option()
def create_user(
    username: str, roles: tuple[str, ...], display_name: str, email: str | None, password: str
) -> None:
    """Create a user with one or more roles."""
    from formflow.auth import services
    from formflow.errors import Invalid

    try:
        user = services.create_user(username, password, list(roles), display_name=display_name, email=email)
    except Invalid as invalid:
        db.session.rollback()
        for error in invalid.errors:
            click.echo(f"{error['pointer']}: {error['message']}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Created user {user.username} ({', '.join(user.role_names)}).")


@formflow_group.group("token")
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="cli", help="A label to recognise the token by.")
def token_create(username: str, name: str) -> None:
    """Print a new API token for USERNAME (shown once, stored hashed)."""
    from formflow.auth import services

    user = services.find_user(username)
    if user is None or not user.active:
        raise click.ClickException(f"no active user {username!r}")
    plain, _token = services.create_token(user, name)
    db.session.commit()
    click.echo(plain)


@formflow_group.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 naming the first bad row."""
    from formflow.audit import verify

    result = verify()
    if result.ok:
        click.echo(f"OK: {result.checked} audit entries, chain intact.")
        return
    where = f"seq {result.bad_seq}" + (f" (id {result.bad_id})" if result.bad_id is not None else "")
    click.echo(f"FAIL at {where}: {result.reason}", err=True)
    raise SystemExit(1)
