"""``alertpipe replay``: a range of the raw topic through the worker's own functions."""

from __future__ import annotations

import time
from collections.abc import Callable

import click
import orjson

from alertpipe.cli.common import (
    EXIT_USAGE,
    bootstrap_or_exit,
    fail,
    known_source_or_exit,
    schemas_or_exit,
    settings_or_exit,
)
from alertpipe.cli.reading import (
    EXIT_INTERRUPTED,
    ProgressBar,
    current_routes,
    current_windows,
    policy_or_exit,
    range_options,
    range_request,
    run_reading,
    stop_on_ctrl_c,
)
from alertpipe.cli.render import OUTCOME_HEADER, outcome_line
from alertpipe.jobs.replay import ReplayJob, ReplayResult, run_replay
from kafkaio.settings import TopicSettings
from processors.incidents import IncidentPolicy
from processors.replay import Outcome, OutcomeFilter, Replayer, outcome_json
from processors.validate import SchemaSet


def check_target(topics: TopicSettings, to_topic: str, yes: bool) -> None:
    """Never into the pipeline's own inputs; into the delivery topic only with --yes."""
    inputs = {
        topics.raw: "the raw topic",
        topics.dead_letter: "the dead-letter topic",
        topics.integrations: "the integration keys topic",
        topics.routes: "the routing topic",
        topics.maintenance: "the maintenance topic",
    }
    if to_topic.startswith(("repartition__", "changelog__")):
        fail(f"--to-topic {to_topic} is one of the worker's internal topics", EXIT_USAGE)
    if to_topic in inputs:
        fail(f"--to-topic {to_topic} is {inputs[to_topic]}: choose another topic", EXIT_USAGE)
    if to_topic == topics.normalized and not yes:
        fail(
            f"--to-topic {to_topic} is the live delivery topic: consumers would get these "
            "alerts again (they drop repeats by alert_id); add --yes to confirm",
            EXIT_USAGE,
        )


@click.command()
@range_options
@click.option("--org", help="Only this organisation's records.")
@click.option("--source", help="Show only this source (a name `alertpipe sources list` prints).")
@click.option("--routing-key", help="Show only this routing key (as sent, or as resolved).")
@click.option("--dry-run", is_flag=True, help="Print the outcomes, write nothing. [default]")
@click.option("--to-topic", metavar="TOPIC", help="Publish the emitted alerts to TOPIC.")
@click.option("--yes", is_flag=True, help="Confirm --to-topic naming the live delivery topic.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per outcome.")
@click.option("-q", "--quiet", is_flag=True, help="No outcome lines, only the summary.")
@click.option("--timeout", type=float, default=15.0, show_default=True, help="Seconds for Kafka.")
def replay(
    since: int | None,
    until: int | None,
    partition: int | None,
    from_offset: int | None,
    to_offset: int | None,
    org: str | None,
    source: str | None,
    routing_key: str | None,
    dry_run: bool,
    to_topic: str | None,
    yes: bool,
    as_json: bool,
    quiet: bool,
    timeout: float,
) -> None:
    """Replay a range of the raw topic through the worker's own functions: parse, validate,
    map, route, and the incident decisions, in order. Prints each outcome: an alert (and the
    decision that emitted it), suppressed (and why), or a dead letter (and its code).

    \b
    Range: --since/--until (times), or --partition with --from-offset/--to-offset.
      alertpipe replay --since 2h --org acme
      alertpipe replay --since 2025-03-17T19:00Z --until 2025-03-17T20:00Z --json
      alertpipe replay --partition 2 --from-offset 1200 --to-offset 1300
    Modes: --dry-run (the default) writes nothing to Kafka; --to-topic T publishes the
    emitted alerts to T with the same alert_ids as the live worker (never to the delivery
    topic unless T names it and --yes confirms).

    Incident state is kept in memory, one entry per incident of the range, and starts empty
    at the start of the range: a range that starts in the middle of an incident decides
    differently from the live worker (a repeated trigger opens it again). Widen the range
    with an earlier --since to cover the incident's first trigger. Partitions are merged by
    record time. Maintenance windows are those stored now, ended ones included: an emitted
    alert shows the window that covered its receipt, as delivered live. Routes are those in
    force now; schemas are the built-in ones with ALERTPIPE_SCHEMA_DIR's in front; incident
    TTLs are the worker's (ALERTPIPE_*_TTL_S).

    On a terminal a progress bar shows count, rate and ETA; a summary (counts by outcome)
    goes to stderr at the end. Ctrl-C stops cleanly with the summary so far (exit 130).
    Records are read in bounded batches: memory grows with the incidents, not the records."""
    if since is None and partition is None:
        fail("give a range: --since (e.g. 2h), or --partition (with offsets)", EXIT_USAGE)
    if dry_run and to_topic:
        fail("--dry-run and --to-topic exclude each other", EXIT_USAGE)
    settings = settings_or_exit()
    known_source_or_exit(settings, source)
    if to_topic:
        check_target(settings.topics, to_topic, yes)
    schemas = schemas_or_exit(settings)
    policy = policy_or_exit()
    job = ReplayJob(
        bootstrap_or_exit(settings),
        settings.topics.raw,
        range_request(since, until, partition, from_offset, to_offset),
        OutcomeFilter(org, source, routing_key),
        to_topic,
        timeout,
    )
    bar = ProgressBar()
    header = [OUTCOME_HEADER] if not as_json else []

    def show(outcome: Outcome) -> None:
        if quiet:
            return
        if as_json:
            bar.echo(orjson.dumps(outcome_json(outcome)).decode())
            return
        while header:
            bar.echo(header.pop())
        bar.echo(outcome_line(outcome))

    started = time.monotonic()
    try:
        result = run_reading(_run(job, settings.topics, policy, schemas, show, bar))
    finally:
        bar.close()
    report(job, result, time.monotonic() - started)
    if result.interrupted:
        raise SystemExit(EXIT_INTERRUPTED)


async def _run(
    job: ReplayJob,
    topics: TopicSettings,
    policy: IncidentPolicy,
    schemas: SchemaSet,
    show: Callable[[Outcome], None],
    bar: ProgressBar,
) -> ReplayResult:
    stop = stop_on_ctrl_c()
    routes = await current_routes(job.kafka, topics.routes, job.timeout)
    windows = await current_windows(job.kafka, topics.maintenance, job.timeout)
    replayer = Replayer(routes, policy, schemas, windows)
    return await run_replay(job, replayer, show, bar, stop)


def report(job: ReplayJob, result: ReplayResult, seconds: float) -> None:
    summary = result.summary
    rate = summary.records / seconds if seconds > 0 else 0.0
    lines = [
        f"replayed {job.topic}: {summary.records} of {result.total} records in {seconds:.1f} s "
        f"({rate:,.0f} records/s); {summary.skipped} not shown (filters)",
        *summary.lines(),
    ]
    if job.to_topic is not None:
        lines.append(f"published {result.published} alerts to {job.to_topic}")
    else:
        lines.append("dry run: nothing was written to Kafka")
    if result.interrupted:
        lines.append(f"interrupted: stopped after {summary.records} of {result.total} records")
    for line in lines:
        click.echo(line, err=True)
