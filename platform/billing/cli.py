"""`flask --app wsgi formflow fees …` (added to the formflow group by formflow.cli)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

fees_group = AppGroup("fees", help="Management fees: the fee run.")


@fees_group.command("run")
@click.option(
    "--now", "now_text", default=None, metavar="ISO8601", help="Act as if it were this date or moment."
)
@click.option("--dry-run", is_flag=True, help="Print what would be charged, per customer; write nothing.")
def fees_run(now_text: str | None, dry_run: bool) -> None:
    """Charge every fee due (each period once, however often it runs)."""
    import sys
    from datetime import datetime

    from formflow.billing import fee_run
    from formflow.extensions import db, utcnow

    try:
        moment = datetime.fromisoformat(now_text.strip().replace("Z", "+00:00")) if now_text else utcnow()
    except ValueError:
        raise click.BadParameter(
            f"not an ISO 8601 date or date-time: {now_text!r}", param_hint="--now"
        ) from None
    today = moment.date() if now_text else fee_run.business_date(moment)
    total = fee_run.active_count(today)
    db.session.commit()
    if sys.stdout.isatty() and total:
        with click.progressbar(length=total, label="Subscriptions", show_eta=True, show_percent=True) as bar:
            report = fee_run.run_fees(today, dry_run=dry_run, progress=bar.update)
    else:  # cron, a log: a line per chunk committed
        done = [0]

        def logged(step: int) -> None:
            done[0] += step
            click.echo(f"  {done[0]} of {total} subscriptions done")

        report = fee_run.run_fees(today, dry_run=dry_run, progress=logged)
    if dry_run:
        for due in report.dues:
            click.echo(f"{due.customer_code}  {due.item}  {due.period}  {due.amount:,.2f}  {due.title}")
        click.echo(
            f"Dry run for {today}: {len(report.dues)} charges, {report.charged:,.2f} in all; nothing written."
        )
        return
    click.echo(
        f"Fee run for {today}: {report.subscriptions} subscriptions, {report.posted} posted, "
        f"{report.short} short ({report.to_receivable:,.2f} to receivables), {report.failed} failed; "
        f"{report.charged:,.2f} charged."
    )
    if report.failed:
        raise SystemExit(1)
