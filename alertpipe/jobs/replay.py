"""``alertpipe replay`` as one async job: read a range of the raw topic, feed each record to the
replayer (``processors.replay``), show the outcomes, publish the emitted alerts if asked.
``alertpipe/cli/replay.py`` wraps it for people; ``bench/replay.py`` times it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from alertpipe.jobs.rangereader import (
    plan,
    range_consumer,
    raw_input_of,
    read_merged,
    topic_partitions,
)
from alertpipe.jobs.ranges import RangeRequest
from kafkaio.clients import KafkaTarget
from kafkaio.publishing import Publisher, publisher
from processors.replay import Outcome, OutcomeFilter, Replayer, Summary

PROGRESS_EVERY = 256  # records between progress updates


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, records: int) -> None: ...


@dataclass(frozen=True)
class ReplayJob:
    kafka: KafkaTarget
    topic: str  # the raw topic
    request: RangeRequest
    filter: OutcomeFilter = field(default_factory=OutcomeFilter)
    to_topic: str | None = None  # publish emitted alerts here; None: a dry run
    timeout: float = 15.0  # seconds for Kafka to answer each step


@dataclass
class ReplayResult:
    summary: Summary
    total: int  # records in the range
    interrupted: bool = False
    published: int = 0


async def run_replay(
    job: ReplayJob,
    replayer: Replayer,
    show: Callable[[Outcome], None],
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> ReplayResult:
    """Replay the range; ``show`` gets every outcome the filter lets through. ``stop`` set
    (Ctrl-C) ends the replay after the current record, with what was done so far."""
    summary = Summary()
    async with range_consumer(job.kafka, job.timeout) as consumer:
        ranges = await plan(consumer, job.kafka, job.topic, job.request, job.timeout)
        result = ReplayResult(summary, total=sum(r.size for r in ranges))
        if progress is not None:
            progress.start(result.total)
        if job.to_topic is not None:  # it exists, or RangeError before anything is read
            await topic_partitions(job.kafka, job.to_topic, job.timeout)
        publishing = (
            publisher(job.kafka, job.timeout)
            if job.to_topic is not None
            else contextlib.nullcontext(None)  # a dry run connects no producer
        )
        async with (
            publishing as publish,
            contextlib.aclosing(read_merged(consumer, job.topic, ranges, stop=stop)) as records,
        ):
            unreported = 0
            async for record in records:
                summary.records += 1
                unreported += 1
                if unreported == PROGRESS_EVERY and progress is not None:
                    progress.advance(unreported)
                    unreported = 0
                await _replay_one(job, replayer, record, summary, show, publish)
            result.interrupted = summary.records < result.total and bool(stop and stop.is_set())
            if progress is not None:
                progress.advance(unreported)
            result.published = publish.sent if publish is not None else 0
    return result


async def _replay_one(
    job: ReplayJob,
    replayer: Replayer,
    record: Any,
    summary: Summary,
    show: Callable[[Outcome], None],
    publish: Publisher | None,
) -> None:
    raw = raw_input_of(record)
    if not job.filter.replays(raw.headers):
        summary.skipped += 1
        return
    shown = False
    for outcome in replayer.feed(raw, record.timestamp):
        if not job.filter.shows(outcome):
            continue
        shown = True
        summary.add(outcome)
        show(outcome)
        if publish is not None and job.to_topic and outcome.emitted and outcome.alert:
            await publish.send(job.to_topic, outcome.alert.incident_key.encode(), outcome.emitted)
    if not shown:
        summary.skipped += 1
