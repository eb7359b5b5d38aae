"""``alertpipe dlq redrive``: dead letters through stage 1 again, after a fix."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
import orjson

from alertpipe.cli.common import (
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    schemas_or_exit,
    settings_or_exit,
)
from alertpipe.cli.reading import (
    EXIT_INTERRUPTED,
    TIME,
    TIME_HELP,
    ProgressBar,
    current_routes,
    run_reading,
    stop_on_ctrl_c,
)
from alertpipe.publishing import Publisher, publisher
from alertpipe.rangereader import plan, range_consumer, read_merged
from alertpipe.ranges import RangeRequest
from alertpipe.settings import Settings, SettingsError, TopicSettings
from alertpipe.topics import partition_count
from processors.redrive import Redriven, redrive
from processors.routing import RoutingConfig
from processors.settings import load_worker_settings
from processors.validate import SchemaSet
from processors.worker.names import internal_topics


@dataclass
class RedriveReport:
    read: int = 0  # dead letters read in the range
    selected: int = 0  # of which matching --code and --org
    passed: int = 0
    alerts: int = 0  # alerts of the passing ones
    failed: Counter[str] = field(default_factory=Counter)  # fail again, by new code
    repeats: int = 0  # the same raw record seen before in this run (an earlier redrive)
    unreadable: int = 0  # not alertpipe dead letters (no raw.* headers)
    interrupted: bool = False

    def lines(self, dry_run: bool, topics: TopicSettings, stage_one: str) -> list[str]:
        verb = ("would pass", "would fail again") if dry_run else ("now pass", "fail again")
        failed = ", ".join(f"{c} {n}" for c, n in sorted(self.failed.items()))
        out = [
            f"{self.selected} dead letters selected of {self.read} read; "
            f"{self.repeats} repeats of a raw record skipped, {self.unreadable} unreadable",
            f"{verb[0]}: {self.passed} ({self.alerts} alerts)",
            f"{verb[1]}: {sum(self.failed.values())}" + (f" ({failed})" if failed else ""),
        ]
        if dry_run:
            out.append("dry run: nothing was written to Kafka")
        else:
            out.append(
                f"sent {self.alerts} alerts to {stage_one} (the worker decides their "
                f"incidents) and {sum(self.failed.values())} dead letters to {topics.dead_letter}"
            )
        return out


@click.group()
def dlq() -> None:
    """The dead-letter topic: bodies that could not be processed, kept for a fix."""


@dlq.command("redrive")
@click.option("--code", "codes", multiple=True, help="Only this error code (repeatable).")
@click.option("--since", type=TIME, help=f"Dead letters written since. {TIME_HELP}.")
@click.option("--until", type=TIME, help="Dead letters written before. [default: now]")
@click.option("--org", help="Only this organisation's dead letters.")
@click.option("--dry-run", is_flag=True, help="Report what would pass; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dead letter.")
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds for Kafka.")
def redrive_cmd(
    codes: tuple[str, ...],
    since: int | None,
    until: int | None,
    org: str | None,
    dry_run: bool,
    as_json: bool,
    timeout: float,
) -> None:
    """Run dead letters through validation, mapping and routing again, after a schema fix
    (ALERTPIPE_SCHEMA_DIR) or a mapping fix, and report how many now pass and how many fail
    again.

    \b
      alertpipe dlq redrive --code schema --since 2h --dry-run
      ALERTPIPE_SCHEMA_DIR=/etc/alertpipe/schemas alertpipe dlq redrive --code schema

    Each dead letter keeps its raw body and the ingress's headers (its original received_at
    and request_id) and gets the alert_ids a replay of its raw record gives. Those that pass
    go to the worker's repartition topic (that of ALERTPIPE_WORKER_GROUP), where the running
    worker decides their incidents like
    any alert (a stale one, older than the incident's last change, is suppressed as late);
    those that fail go back to the dead-letter topic with the new error and a redrive.of
    header. A raw record met twice in one run (a dead letter and its earlier redrive) is
    redriven once. Routes are those in force now."""
    settings = settings_or_exit()
    schemas = schemas_or_exit(settings)
    bootstrap = bootstrap_or_exit(settings)
    stage_one = ""
    bar = ProgressBar()
    wanted = set(codes)

    def show(origin: str, done: Redriven) -> None:
        letter = done.result.dead_letter
        if as_json:
            data = {
                "dead_letter": origin,
                "raw": f"{done.raw.topic}:{done.raw.partition}:{done.raw.offset}",
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
        nonlocal stage_one
        routes = await current_routes(bootstrap, settings.topics.routes, timeout)
        stage_one = await stage_one_topic(settings, bootstrap, timeout)
        job = RedriveJob(
            bootstrap, settings.topics, stage_one, routes, schemas, wanted, org, timeout
        )
        request = RangeRequest(since_ms=since, until_ms=until)
        return await redrive_range(job, request, dry_run, show, bar)

    try:
        report = run_reading(run())
    finally:
        bar.close()
    for line in report.lines(dry_run, settings.topics, stage_one):
        click.echo(line, err=True)
    if report.interrupted:
        raise SystemExit(EXIT_INTERRUPTED)


async def stage_one_topic(settings: Settings, bootstrap: str, timeout: float) -> str:
    """The repartition topic of the configured worker group (ALERTPIPE_WORKER_GROUP)."""
    try:
        group = load_worker_settings().group
    except SettingsError as exc:
        fail(f"bad setting: {exc}", EXIT_USAGE)
    partitions = await partition_count(bootstrap, settings.topics.raw, timeout=timeout)
    topic = internal_topics(group, settings.topics.raw, partitions).repartition
    if topic is None:
        fail(
            f"{settings.topics.raw} has one partition: the worker decides its alerts in place, "
            "so redriven alerts have no topic to go to (give the raw topic more partitions)"
        )
    return topic


@dataclass(frozen=True)
class RedriveJob:
    bootstrap_servers: str
    topics: TopicSettings
    stage_one: str  # the worker's repartition topic: alerts that stage 2 decides
    routes: dict[str, RoutingConfig]
    schemas: SchemaSet
    codes: set[str]  # empty: every code
    org: str | None
    timeout: float


async def redrive_range(
    job: RedriveJob,
    request: RangeRequest,
    dry_run: bool,
    show: Callable[[str, Redriven], None],
    bar: ProgressBar,
) -> RedriveReport:
    report = RedriveReport()
    seen: set[tuple[str, int, int]] = set()  # raw records redriven in this run
    stop = stop_on_ctrl_c()
    topic = job.topics.dead_letter
    async with range_consumer(job.bootstrap_servers, job.timeout) as consumer:
        ranges = await plan(consumer, job.bootstrap_servers, topic, request, job.timeout)
        bar.start(sum(r.size for r in ranges))
        publishing = (
            contextlib.nullcontext(None)
            if dry_run
            else publisher(job.bootstrap_servers, job.timeout)
        )
        records = read_merged(consumer, topic, ranges, stop=stop)
        async with publishing as publish, contextlib.aclosing(records) as it:
            async for record in it:
                report.read += 1
                bar.advance(1)
                await _one(job, record, report, seen, show, publish)
        report.interrupted = stop.is_set()
    return report


async def _one(
    job: RedriveJob,
    record: Any,
    report: RedriveReport,
    seen: set[tuple[str, int, int]],
    show: Callable[[str, Redriven], None],
    publish: Publisher | None,
) -> None:
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
    if job.codes and headers.get("error.code") not in job.codes:
        return
    if job.org is not None and headers.get("org") != job.org:
        return
    report.selected += 1
    origin = f"{record.topic}:{record.partition}:{record.offset}"
    try:
        done = redrive(
            record.key, record.value or b"", list(record.headers), origin, job.routes, job.schemas
        )
    except ValueError:
        report.unreadable += 1
        return
    raw = (done.raw.topic, done.raw.partition, done.raw.offset)
    if raw in seen:
        report.repeats += 1
        return
    seen.add(raw)
    show(origin, done)
    if done.passes:
        report.passed += 1
        report.alerts += len(done.to_stage_one)
    else:
        assert done.result.dead_letter is not None
        report.failed[done.result.dead_letter.code] += 1
    if publish is None:
        return
    for key, value, out_headers in done.to_stage_one:
        await publish.send(job.stage_one, key, value, out_headers)
    if done.to_dead_letter is not None:
        key, value, out_headers = done.to_dead_letter
        await publish.send(job.topics.dead_letter, key, value, out_headers)
