"""Reading a range of a topic from Kafka: planned by ``alertpipe.jobs.ranges``, merged across
partitions in record-time order, in bounded memory.

Memory: at most ``max_records`` records are buffered per partition (aiokafka prefetches at
most ``max_partition_fetch_bytes`` per partition on top), whatever the size of the range.
Order: each partition's records stay in offset order; across partitions the record with the
earliest Kafka timestamp goes first (ties by partition). That is the order in which a worker
consuming all partitions roughly saw them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import OffsetOutOfRangeError

from alertpipe.jobs.ranges import OffsetRange, RangeError, RangeRequest, plan_ranges
from kafkaio.admin import KafkaUnreachable, partition_count, start_within
from kafkaio.clients import KafkaTarget, new_consumer
from processors.pipeline import RawInput

FETCH_MAX_BYTES = 8 * 1024 * 1024
PARTITION_FETCH_BYTES = 1024 * 1024


@contextlib.asynccontextmanager
async def range_consumer(kafka: KafkaTarget, timeout: float) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer with no group (nothing committed, nothing rebalanced) that answered within
    ``timeout`` seconds, else KafkaUnreachable. Out-of-range positions raise, never reset.

    Assign it once (one ``read_merged``): aiokafka 0.14's fetcher swallows the cancellation
    that ``stop()`` sends while it is switching assignments, and ``stop()`` then never returns.
    """
    consumer = new_consumer(
        kafka,
        isolation_level="read_committed",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="none",
        request_timeout_ms=int(timeout * 1000),
        fetch_max_bytes=FETCH_MAX_BYTES,
        max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
    )
    await start_within(consumer, consumer.stop, kafka, timeout)
    try:
        # let the consumer's background tasks start: stop() raises CancelledError when one of
        # them is cancelled before it ever ran (aiokafka 0.14)
        await asyncio.sleep(0)
        yield consumer
    finally:
        await consumer.stop()


async def topic_partitions(kafka: KafkaTarget, topic: str, timeout: float) -> list[TopicPartition]:
    """The partitions of ``topic``; RangeError if it does not exist."""
    count = await partition_count(kafka, topic, timeout=timeout)
    if not count:
        raise RangeError(
            f"unknown topic {topic} (see `alertpipe topics create` and ALERTPIPE_TOPIC_*)"
        )
    return [TopicPartition(topic, p) for p in range(count)]


async def plan(
    consumer: AIOKafkaConsumer,
    kafka: KafkaTarget,
    topic: str,
    request: RangeRequest,
    timeout: float,
) -> list[OffsetRange]:
    """Ask Kafka for the partitions' offsets (and the offsets of the times), then plan."""
    tps = await topic_partitions(kafka, topic, timeout)
    async with asyncio.timeout(timeout):
        low = await consumer.beginning_offsets(tps)
        high = await consumer.end_offsets(tps)
        since = await _offsets_at(consumer, tps, request.since_ms)
        until = await _offsets_at(consumer, tps, request.until_ms)
    bounds = {tp.partition: (low[tp], high[tp]) for tp in tps}
    return plan_ranges(topic, bounds, request, since, until)


async def _offsets_at(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], when_ms: int | None
) -> dict[int, int | None] | None:
    if when_ms is None:
        return None
    found = await consumer.offsets_for_times(dict.fromkeys(tps, max(0, when_ms)))
    return {tp.partition: (hit.offset if hit is not None else None) for tp, hit in found.items()}


async def read_merged(
    consumer: AIOKafkaConsumer,
    topic: str,
    ranges: list[OffsetRange],
    *,
    max_records: int = 500,
    stall_s: float = 30.0,
    stop: asyncio.Event | None = None,
) -> AsyncGenerator[Any, None]:
    """The records of ``ranges`` (aiokafka ConsumerRecords), merged by time (module doc);
    ends early once ``stop`` is set. Raises KafkaUnreachable after ``stall_s`` seconds without
    progress, RangeError when retention deleted records of the range while it was read."""
    ends = {TopicPartition(topic, r.partition): r.end for r in ranges if r.size > 0}
    consumer.assign(list(ends))
    for r in ranges:
        if r.size > 0:
            consumer.seek(TopicPartition(topic, r.partition), r.start)
    buffers: dict[TopicPartition, deque[Any]] = {tp: deque() for tp in ends}
    progress = time.monotonic()
    while buffers and not (stop is not None and stop.is_set()):
        empty = [tp for tp, buffer in buffers.items() if not buffer]
        if not empty:
            tp = min(buffers, key=lambda t: merge_key(buffers[t][0]))
            yield buffers[tp].popleft()
            continue
        for tp in empty:
            if await consumer.position(tp) >= ends[tp]:
                del buffers[tp]
                progress = time.monotonic()
        wanted = [tp for tp in empty if tp in buffers]
        if not wanted:
            continue
        # getmany returns prefetched records without suspending: yield to the event loop here
        # so that signal handlers (Ctrl-C sets ``stop``) run at least once per batch
        await asyncio.sleep(0)
        try:
            fetched = await consumer.getmany(*wanted, timeout_ms=500, max_records=max_records)
        except OffsetOutOfRangeError as exc:
            raise RangeError(
                f"offset out of range while reading {topic}: retention deleted records of the "
                f"range ({exc})"
            ) from exc
        for tp, records in fetched.items():
            buffers[tp].extend(r for r in records if r.offset < ends[tp])
            progress = time.monotonic()
        if time.monotonic() - progress > stall_s:
            raise KafkaUnreachable(f"no records from {topic} for {stall_s:.0f}s: is Kafka there?")


def merge_key(record: Any) -> tuple[int, int]:
    """Across partitions, the earliest record time first (ties: the lower partition)."""
    return (record.timestamp, record.partition)


def raw_input_of(record: Any) -> RawInput:
    """A consumed raw record as the pure pipeline takes it."""
    return RawInput(
        record.value or b"",
        list(record.headers or ()),
        record.topic,
        record.partition,
        record.offset,
    )
