"""``alertpipe dlq redrive``: dead letters through stage 1 again, after a fix."""

from __future__ import annotations

import click
import orjson

from alertpipe.cli.common import (
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    schemas_or_exit,
    settings_or_exit,
    worker_topics_or_exit,
)
from alertpipe.cli.group import CommandGroup
from alertpipe.cli.reading import (
    EXIT_INTERRUPTED,
    TIME,
    TIME_HELP,
    ProgressBar,
    current_routes,
    run_reading,
    stop_on_ctrl_c,
)
from alertpipe.jobs.ranges import RangeRequest
from alertpipe.jobs.redrive import RedriveJob, RedriveReport, redrive_range
from processors.redrive import Redriven
from schemas.normalized import ref_text


@click.group(cls=CommandGroup)
def dlq() -> None:
    """The dead-letter topic: bodies that could not be processed, kept for a fix."""


@dlq.command("redrive")
@click.option("--code", "codes", multiple=True, help="Only this error code (repeatable).")
@click.option("--since", type=TIME, help=f"Dead letters written since. {TIME_HELP}.")
@click.option("--until", type=TIME, help="Dead letters written before. [default: now]")
@click.option("--org", help="Only this organisation's dead letters.")
@click.option("--dry-run", is_flag=True, help="Report what would pass; write nothing. [default]")
@click.option("--yes", is_flag=True, help="Write: passing alerts to the worker, failures back.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dead letter.")
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds for Kafka.")
def redrive_cmd(
    codes: tuple[str, ...],
    since: int | None,
    until: int | None,
    org: str | None,
    dry_run: bool,
    yes: bool,
    as_json: bool,
    timeout: float,
) -> None:
    """Run dead letters through validation, mapping and routing again, after a schema fix
    (ALERTPIPE_SCHEMA_DIR) or a mapping fix, and report how many would pass and how many
    would fail again. Writes nothing unless --yes (a dry run by default, like `replay`).

    \b
      alertpipe dlq redrive --code schema --since 2h
      ALERTPIPE_SCHEMA_DIR=/etc/alertpipe/schemas alertpipe dlq redrive --code schema --yes

    Each line names the dead letter as TOPIC:PARTITION:OFFSET (for `alertpipe explain`);
    --json prints it under "ref" and its raw record under "raw_ref".

    Each dead letter keeps its raw body and the ingress's headers (its original received_at
    and request_id) and gets the alert_ids a replay of its raw record gives. Those that pass
    go to the worker's repartition topic (that of ALERTPIPE_WORKER_GROUP), where the running
    worker decides their incidents like
    any alert (a stale one, older than the incident's last change, is suppressed as late);
    those that fail go back to the dead-letter topic with the new error and a redrive.of
    header. A raw record met twice in one run (a dead letter and its earlier redrive) is
    redriven once. Routes are those in force now."""
    if dry_run and yes:
        fail("--dry-run and --yes exclude each other", EXIT_USAGE)
    dry_run = not yes
    settings = settings_or_exit()
    schemas = schemas_or_exit(settings)
    bootstrap = bootstrap_or_exit(settings)
    stage_one = worker_topics_or_exit(settings).repartition
    bar = ProgressBar()
    wanted = set(codes)

    def show(origin: str, done: Redriven) -> None:
        letter = done.result.dead_letter
        if as_json:
            data = {
                "ref": origin,
                "raw_ref": ref_text(done.raw.topic, done.raw.partition, done.raw.offset),
                "recorded": done.recorded.code,
                "passes": done.passes,
                "alert_ids": [a.alert_id for a in done.result.alerts],
                "error": {"code": letter.code, "path": letter.path, "message": letter.message}
                if letter
                else None,
            }
            bar.echo(orjson.dumps(data).decode())
        elif letter is None:
            alerts = ", ".join(f"{a.message_type} {a.entity_id}" for a in done.result.alerts)
            bar.echo(
                f"{click.style('pass', fg='green')}  {origin} ({done.recorded.code}): {alerts}"
            )
        else:
            where = f"{letter.code} at {letter.path or '$'}: {letter.message}"
            bar.echo(f"{click.style('fail', fg='red')}  {origin} ({done.recorded.code}): {where}")

    async def run() -> RedriveReport:
        routes = await current_routes(bootstrap, settings.topics.routes, timeout)
        job = RedriveJob(
            bootstrap, settings.topics, stage_one, routes, schemas, wanted, org, timeout
        )
        request = RangeRequest(since_ms=since, until_ms=until)
        return await redrive_range(job, request, dry_run, show, bar, stop_on_ctrl_c())

    try:
        report = run_reading(run())
    finally:
        bar.close()
    for line in report.lines(dry_run, settings.topics, stage_one):
        click.echo(line, err=True)
    if report.interrupted:
        raise SystemExit(EXIT_INTERRUPTED)
