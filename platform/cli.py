"""`flask --app wsgi formflow …` (also `python -m formflow …`): the operations CLI."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from formflow.billing.cli import fees_group
from formflow.extensions import db
from formflow.ledger.cli import ledger_group
from formflow.reconcile.cli import reconcile_group

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


@formflow_group.command("unlock")
@click.argument("username", required=False)
@click.option("--address", default=None, help="Only locks from this client address.")
def unlock(username: str | None, address: str | None) -> None:
    """Lift the login locks and failure counts of USERNAME (from every address, or only from
    --address); --address alone lifts every lock from that address."""
    from formflow.auth import throttle

    if username is None and address is None:
        raise click.UsageError("give a USERNAME, an --address, or both")
    lifted = throttle.unlock(throttle.rows(username=username, address=address))
    db.session.commit()
    click.echo(f"Lifted {lifted} login lock(s) and count(s).")


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


def _anchor_option(_ctx, _param, value: str | None):
    from formflow.audit import parse_anchor

    try:
        return None if value is None else parse_anchor(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@audit_group.command("anchor")
def audit_anchor() -> None:
    """Print HASH:COUNTS of the chains' heads (a count per chain), to keep outside the database
    (`verify --anchor` checks it)."""
    from formflow.audit import current_anchor
    from formflow.errors import Conflict

    try:
        click.echo(str(current_anchor()))
    except Conflict as conflict:
        click.echo(f"FAIL: {conflict.message}", err=True)
        raise SystemExit(1) from None


@audit_group.command("verify")
@click.option(
    "--anchor",
    metavar="HASH:COUNTS",
    callback=_anchor_option,
    help="An earlier `audit anchor`: also fail when the log no longer has that entry (a cut-off tail).",
)
def audit_verify(anchor) -> None:
    """Check the hash chain; exit 1 naming the first bad row."""
    from formflow.audit import verify

    result = verify(anchor)
    if result.ok:
        against = "; it still holds what the anchor saw" if anchor else ""
        click.echo(f"OK: {result.checked} audit entries, chain intact{against}.")
        return
    click.echo(f"FAIL at {result.where}: {result.reason}", err=True)
    raise SystemExit(1)


# --- process templates: check, import, export, publish -------------------------------------


def _echo_problems(filename: str, errors: list[dict]) -> None:
    for error in errors:
        click.echo(f"{filename}:{error['pointer']}: {error['message']}")


def _read_spec(path: str) -> dict:
    """The spec in the file at `path`; Invalid (pointer "") when it is not a JSON object."""
    from formflow.processes.services import parse_spec_text

    with open(path, "rb") as handle:
        return parse_spec_text(handle.read(), filename=path)


@formflow_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def check(files: tuple[str, ...]) -> None:
    """Check process spec files (meta-schema, form, rules, then the spec's tests); print
    FILE:POINTER: message per problem, exit 1 on any. Needs no database: without one, the
    `lookup`s of global tables are listed as not checked (and those specs' tests not run)."""
    from formflow import dbready
    from formflow.errors import Invalid
    from formflow.tables.lookups import without_global_tables

    offline = not dbready.is_ready()
    unseen: list[str] = []
    problems = 0
    for path in files:
        try:
            spec = _read_spec(path)
            if offline:
                with without_global_tables():
                    errors, missed = _check_without_database(path, spec)
                unseen.extend(missed)
            else:
                errors = _check_one(spec)
        except Invalid as invalid:
            errors = invalid.errors
        except OSError as error:
            errors = [{"pointer": "", "message": error.strerror or str(error)}]
        _echo_problems(path, errors)
        problems += len(errors)
    if offline:
        named = f": {'; '.join(unseen)}" if unseen else ""
        click.echo(f"global tables not checked (no database){named}", err=True)
    if problems:
        click.echo(f"{problems} problem(s) in {len(files)} file(s).", err=True)
        raise SystemExit(1)
    click.echo(f"OK: {len(files)} file(s), no problems.")


def _check_one(spec: dict) -> list[dict]:
    from formflow.processes.services import check_spec, run_spec_tests

    errors = check_spec(spec)
    if not errors:  # the tests of a spec with problems would only fail for those
        errors = run_spec_tests(spec)
    return errors


def _check_without_database(path: str, spec: dict) -> tuple[list[dict], list[str]]:
    """`_check_one` with no global tables to see: the problems, and a phrase per `lookup` of a
    table the spec does not define itself (not reported as unknown: it may be a global one).
    The tests of a spec that reads such tables are not run: they would fail for want of them."""
    from formflow.processes.services import check_spec, run_spec_tests
    from formflow.tables.cells import spec_tables
    from formflow.tables.lookups import referenced_tables

    try:
        own = {table["key"] for _index, table in spec_tables(spec)}
    except (KeyError, TypeError, AttributeError):
        own = set()
    errors, unseen = [], []
    for error in check_spec(spec):
        name = _at_pointer(spec, error["pointer"]) if error["pointer"].endswith("/lookup/0") else None
        if isinstance(name, str) and name not in own:
            unseen.append(f'lookup of "{name}" in {path}:{error["pointer"]}')
        else:
            errors.append(error)
    referenced = referenced_tables(spec)
    if referenced is None:
        unseen.append(f"a computed lookup in {path} (its tests not run)")
    elif referenced - own:
        if not unseen:
            unseen.extend(f'lookup of "{name}" in {path}' for name in sorted(referenced - own))
        unseen[-1] += " (its tests not run)"
    elif not errors:
        errors = run_spec_tests(spec)
    return errors, unseen


def _at_pointer(document, pointer: str):
    """The value at a JSON Pointer in `document` (None when there is none)."""
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(document, dict):
            document = document.get(token)
        elif isinstance(document, list) and token.isdigit() and int(token) < len(document):
            document = document[int(token)]
        else:
            return None
    return document


@formflow_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def import_files(files: tuple[str, ...]) -> None:
    """Import process spec files, each in its own transaction; exit 1 if any is invalid."""
    from formflow.errors import DomainError
    from formflow.processes.services import import_spec

    failed = 0
    for path in files:
        try:
            result = import_spec(_read_spec(path))
        except DomainError as error:
            db.session.rollback()
            _echo_problems(path, error.errors)
            failed += 1
            continue
        db.session.commit()
        key, number = result.process.key, result.version.number
        outcome = {
            "create": f"created process {key}, version {number} (draft)",
            "update_draft": f"updated {key} draft version {number}",
            "new_version": f"updated {key}: new draft version {number}",
            "unchanged": f"unchanged {key} (version {number}, {result.version.status})",
        }[result.action]
        click.echo(f"{path}: {outcome}")
    if failed:
        click.echo(f"{failed} of {len(files)} file(s) not imported.", err=True)
        raise SystemExit(1)


@formflow_group.command("export")
@click.argument("key")
@click.option("--version", "number", type=int, default=None, help="Default: the published, else the latest.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None)
def export(key: str, number: int | None, output: str | None) -> None:
    """Write a process's spec as UTF-8 JSON (to stdout or FILE)."""
    from formflow.errors import DomainError
    from formflow.processes.services import export_spec, spec_text

    try:
        text = spec_text(export_spec(key, number))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    if output is None:
        click.echo(text, nl=False)
        return
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"Wrote {key} to {output}.", err=True)


@formflow_group.command("export-list")
@click.argument("kind")
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option(
    "--filter", "filter_args", multiple=True, metavar="NAME=VALUE", help="A filter of the list (repeatable)."
)
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True))
def export_list(kind: str, file_format: str, filter_args: tuple[str, ...], lang: str, output: str) -> None:
    """Write a list (customers, cases, entries, invoices, payments, notices, audit …) as CSV or
    XLSX, exactly as its page filters it (every row: no viewer's limits), with a progress bar.
    Exits 2 on an unknown list or filter."""
    from flask import current_app

    from formflow import tabular
    from formflow.errors import DomainError
    from formflow.i18n import LANG_COOKIE

    def refuse(message: str):
        click.echo(f"export-list: {message}", err=True)
        raise SystemExit(2)

    try:
        entry = tabular.get(kind)
    except KeyError:
        refuse(f"no list {kind!r} exports (lists: {', '.join(tabular.kinds())})")
    args: dict[str, str] = {}
    for given in filter_args:
        name, sep, value = given.partition("=")
        if not sep or name not in entry.filter_names:
            known = ", ".join(entry.filter_names) or "none"
            refuse(f"{kind} has no filter {name if sep else given!r} (filters: {known}; give NAME=VALUE)")
        args[name] = value
    cookie = {"Cookie": f"{LANG_COOKIE}=en"} if lang == "en" else {}
    with current_app.test_request_context(headers=cookie):  # the language headers and labels read
        try:
            filters = entry.filters(args, None)
            total = entry.count(filters)
        except DomainError as error:
            problems = "; ".join(f"{e['pointer']}: {e['message']}" for e in error.errors) or error.message
            refuse(problems)
        table, written = entry.table(filters), [0]
        label = f"Exporting {kind}"
        with click.progressbar(length=total, label=label, show_eta=True, show_percent=True) as bar:
            table.rows = _counted(table.rows, bar, written)
            tabular.write_file(table, file_format, output)
    click.echo(f"Wrote {written[0]} rows of {kind} to {output}.")


def _counted(rows, bar, written: list[int]):
    """`rows`, moving the progress bar a chunk at a time as they are written (and counting them
    in written[0])."""
    from formflow.tabular import CHUNK

    for row in rows:
        yield row
        written[0] += 1
        if written[0] % CHUNK == 0:
            bar.update(CHUNK)
    bar.update(written[0] % CHUNK)


@formflow_group.command("diff")
@click.argument("key")
@click.option("--from", "from_number", type=int, default=None, help="Default: the published version.")
@click.option("--to", "to_number", type=int, default=None, help="Default: the latest version (the draft).")
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True)
def diff(key: str, from_number: int | None, to_number: int | None, lang: str) -> None:
    """What changed between two versions of a process, element by element, by their labels (for
    a review in a terminal or a pull request)."""
    from flask import current_app
    from flask_babel import gettext

    from formflow.errors import DomainError
    from formflow.i18n import LANG_COOKIE
    from formflow.processes.process_queries import version_diff

    cookie = {"Cookie": f"{LANG_COOKIE}=en"} if lang == "en" else {}
    with current_app.test_request_context(headers=cookie):  # the language gettext and labels read
        try:
            found = version_diff(key, from_number, to_number)
        except DomainError as error:
            raise click.ClickException(error.message) from None
        old, new = found.old, found.new
        click.echo(f"{key}: {old.number} ({old.status_label}) → {new.number} ({new.status_label})")
        for change in found.changes:
            click.echo(f"- {change}")
        if not found.changes:
            click.echo(gettext("No changes."))


@formflow_group.command("publish")
@click.argument("key")
@click.option("--version", "number", type=int, default=None, help="Default: the latest draft.")
def publish(key: str, number: int | None) -> None:
    """Publish a process's draft (checked first); the version published so far is retired."""
    from formflow.errors import DomainError
    from formflow.processes import services

    try:
        published = services.publish(key, number=number)
    except DomainError as error:
        db.session.rollback()
        _echo_problems(key, error.errors)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Published {key} version {published.number}.")


# --- scheduled work ------------------------------------------------------------------------

#: More timers than this due at once: show a progress bar.
TICK_PROGRESS_ABOVE = 20


@formflow_group.command("tick")
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="ISO8601",
    help="Act as if it were this moment (e.g. 2026-03-31T09:00; without an offset: business time).",
)
def tick(now_text: str | None) -> None:
    """Fire due SLA timers (escalations, automatic actions, reminders), retry webhooks, send
    pending e-mails and issue last month's statements. Safe to run from cron on every node at
    once. Exits 0 even when single timers failed (they are listed); 1 when the tick itself could
    not run."""
    from datetime import UTC, datetime

    from formflow.extensions import utcnow
    from formflow.forms.values import business_zone
    from formflow.workflows import timers

    now = None
    if now_text:
        try:
            now = timers.to_utc_naive(datetime.fromisoformat(now_text.strip().replace("Z", "+00:00")))
        except ValueError:
            raise click.BadParameter(f"not an ISO 8601 date-time: {now_text!r}", param_hint="--now") from None
    try:
        moment = now or utcnow()
        total = len(timers.pending(moment))
        db.session.commit()
        if total > TICK_PROGRESS_ABOVE:
            with click.progressbar(length=total, label="Timers") as bar:
                report = timers.tick(moment, progress=bar.update)
        else:
            report = timers.tick(moment)
    except Exception as error:  # the database is unreachable, the schema is missing, …
        db.session.rollback()
        click.echo(f"tick failed: {error}", err=True)
        raise SystemExit(1) from None
    local = report.now.replace(tzinfo=UTC).astimezone(business_zone())
    click.echo(
        f"Tick at {local.isoformat(timespec='seconds')}: {report.fired} fired, {report.reminded} reminded, "
        f"{report.skipped} skipped, {len(report.errors)} failed."
    )
    for name, result in report.jobs.items():
        click.echo(f"  {name}: {_job_summary(result)}")
    for error in report.errors:
        click.echo(f"FAILED {error}")


def _job_summary(result) -> str:
    """A job's report (e.g. the webhooks' or e-mails') in a few words."""
    import dataclasses

    if dataclasses.is_dataclass(result):
        values = dataclasses.asdict(result)
        if values.get("skipped"):
            return f"skipped ({values['skipped']})"
        return " ".join(f"{name} {value}" for name, value in values.items() if isinstance(value, int))
    return "done" if result is None else str(result)


# --- feature packages' commands --------------------------------------------------------------

formflow_group.add_command(ledger_group)
formflow_group.add_command(fees_group)
formflow_group.add_command(reconcile_group)


# --- every command but these needs the database set up -------------------------------------

#: Commands that run without a (migrated) database.
WITHOUT_DATABASE = {"init-db", "check"}


def _require_database(group: click.Group) -> None:
    """Wrap every command's callback in `dbready.guarded` (once, here, not per command)."""
    from flask.cli import with_appcontext

    from formflow.dbready import guarded

    for command in group.commands.values():
        if isinstance(command, click.Group):
            _require_database(command)
        elif command.name not in WITHOUT_DATABASE and command.callback is not None:
            command.callback = with_appcontext(guarded(command.callback))


_require_database(formflow_group)
