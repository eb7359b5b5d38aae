"""``alertpipe dlq redrive`` as one async job: read a range of the dead-letter topic, run each
dead letter through stage 1 again (``processors.redrive``), publish what passes to the worker's
repartition topic and what fails again back to the dead-letter topic. ``alertpipe/cli/dlq.py``
wraps it for people."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alertpipe.jobs.rangereader import plan, range_consumer, read_merged
from alertpipe.jobs.ranges import RangeRequest
from alertpipe.jobs.replay import Progress
from kafkaio.clients import KafkaTarget
from kafkaio.publishing import Publisher, publisher
from kafkaio.settings import TopicSettings
from processors.redrive import Redriven, redrive
from processors.routing import RoutingConfig
from processors.validate import SchemaSet
from schemas.normalized import ref_text


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
            out.append("dry run: nothing was written to Kafka (add --yes to write)")
        else:
            out.append(
                f"sent {self.alerts} alerts to {stage_one} (the worker decides their "
                f"incidents) and {sum(self.failed.values())} dead letters to {topics.dead_letter}"
            )
        return out


@dataclass(frozen=True)
class RedriveJob:
    kafka: KafkaTarget
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
    progress: Progress,
    stop: asyncio.Event | None = None,
) -> RedriveReport:
    """Redrive the dead letters of the range; ``show`` gets each one redriven. ``stop`` set
    (Ctrl-C) ends the run after the current record, with what was done so far."""
    report = RedriveReport()
    seen: set[tuple[str, int, int]] = set()  # raw records redriven in this run
    topic = job.topics.dead_letter
    async with range_consumer(job.kafka, job.timeout) as consumer:
        ranges = await plan(consumer, job.kafka, topic, request, job.timeout)
        progress.start(sum(r.size for r in ranges))
        publishing = contextlib.nullcontext(None) if dry_run else publisher(job.kafka, job.timeout)
        records = read_merged(consumer, topic, ranges, stop=stop)
        async with publishing as publish, contextlib.aclosing(records) as it:
            async for record in it:
                report.read += 1
                progress.advance(1)
                await _one(job, record, report, seen, show, publish)
        report.interrupted = bool(stop and stop.is_set())
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
    origin = ref_text(record.topic, record.partition, record.offset)
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
