"""``alertpipe replay`` as one async job: read a range of the raw topic, feed each record to the
replayer (``processors.replay``), show the outcomes, publish the emitted alerts if asked.
``alertpipe/cli/replay.py`` wraps it for people; ``bench/replay.py`` times it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from alertpipe.kafkaprobe import KafkaUnreachable
from alertpipe.rangereader import plan, range_consumer, raw_input_of, read_merged, topic_partitions
from alertpipe.ranges import RangeRequest
from processors.replay import Outcome, OutcomeFilter, Replayer, Summary

PROGRESS_EVERY = 256  # records between progress updates
PUBLISH_WINDOW = 2000  # published records awaited together (bounded memory)


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, records: int) -> None: ...


@dataclass(frozen=True)
class ReplayJob:
    bootstrap_servers: str
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


Publish = Callable[[bytes, bytes], Awaitable[None]]


@contextlib.asynccontextmanager
async def publisher(job: ReplayJob) -> AsyncIterator[tuple[Publish, Callable[[], int]]]:
    """(publish(key, value), count of published records); all delivered on exit, else it
    raises KafkaUnreachable. A dry run gets a publisher that refuses to be called."""
    if job.to_topic is None:

        async def refuse(key: bytes, value: bytes) -> None:
            raise AssertionError("a dry run publishes nothing")

        yield refuse, lambda: 0
        return
    topic = job.to_topic
    await topic_partitions(job.bootstrap_servers, topic, job.timeout)  # exists, or RangeError
    producer = AIOKafkaProducer(
        bootstrap_servers=job.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
        request_timeout_ms=int(job.timeout * 1000),
    )
    pending: list[Any] = []
    sent = 0

    async def settle() -> None:
        try:
            await asyncio.gather(*pending)
        except KafkaError as exc:
            raise KafkaUnreachable(f"Kafka did not take the replayed alerts: {exc!r}") from exc
        pending.clear()

    async def publish(key: bytes, value: bytes) -> None:
        nonlocal sent
        pending.append(await producer.send(topic, value=value, key=key))
        sent += 1
        if len(pending) >= PUBLISH_WINDOW:
            await settle()

    try:
        async with asyncio.timeout(job.timeout):
            await producer.start()
    except Exception as exc:
        await producer.stop()
        raise KafkaUnreachable(f"cannot publish to {topic}: {exc!r}") from exc
    try:
        yield publish, lambda: sent
        await settle()
    finally:
        await producer.stop()


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
    async with range_consumer(job.bootstrap_servers, job.timeout) as consumer:
        ranges = await plan(consumer, job.bootstrap_servers, job.topic, job.request, job.timeout)
        result = ReplayResult(summary, total=sum(r.size for r in ranges))
        if progress is not None:
            progress.start(result.total)
        async with (
            publisher(job) as (publish, published),
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
        result.published = published()
    return result


async def _replay_one(
    job: ReplayJob,
    replayer: Replayer,
    record: Any,
    summary: Summary,
    show: Callable[[Outcome], None],
    publish: Publish,
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
        if job.to_topic is not None and outcome.emitted is not None and outcome.alert:
            await publish(outcome.alert.incident_key.encode(), outcome.emitted)
    if not shown:
        summary.skipped += 1
