"""Follow a small compacted topic (integration keys, routing configs, maintenance windows)
into memory.

Each process reads the topic from the beginning and then keeps reading, so a change written by
the CLI reaches every running ingress or worker within about a second, with no restart.
``caught_up`` turns true once everything that existed at start has been applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from kafkaio.admin import partition_ids
from kafkaio.clients import KafkaTarget, new_consumer
from kafkaio.publishing import publisher
from schemas.errors import UsageError

log = logging.getLogger("alertpipe.follower")

OnRecord = Callable[[bytes | None, bytes | None], None]


class TopicMissing(UsageError, RuntimeError):
    pass


async def _assign_from_start(
    consumer: AIOKafkaConsumer, kafka: KafkaTarget, topic: str
) -> tuple[list[TopicPartition], dict[TopicPartition, int]]:
    partitions = await partition_ids(kafka, topic)
    if not partitions:
        raise TopicMissing(
            f"topic {topic} does not exist (create it with `alertpipe topics create`)"
        )
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    return tps, ends


async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    return all([await consumer.position(tp) >= end for tp, end in ends.items()])


def _apply_all(on_record: OnRecord, batches: dict[TopicPartition, list[object]]) -> None:
    for records in batches.values():
        for record in records:
            on_record(record.key, record.value)  # type: ignore[attr-defined]


async def read_compacted(kafka: KafkaTarget, topic: str, on_record: OnRecord) -> None:
    """Apply every record now in ``topic`` once, in order, then return (for the CLI)."""
    consumer = new_consumer(kafka, isolation_level="read_committed", enable_auto_commit=False)
    try:
        await consumer.start()  # inside: a broker that never answers leaves no unclosed client
        _, ends = await _assign_from_start(consumer, kafka, topic)
        while not await _reached(consumer, ends):
            _apply_all(on_record, await consumer.getmany(timeout_ms=500))
    finally:
        await consumer.stop()


RETRY_S = 2.0


async def follow_forever(
    follow: Callable[[], Awaitable[None]],
    what: str,
    report: Callable[[str], None],
    logger: logging.Logger,
) -> None:
    """Run ``follow`` until cancelled, starting it again RETRY_S after each failure, which
    goes to ``report`` and the log first (a missing topic, a broker that went away)."""
    while True:
        try:
            await follow()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            problem = f"cannot read {what}: {exc}"
            report(problem)
            logger.warning("%s; retrying in %gs", problem, RETRY_S)
            await asyncio.sleep(RETRY_S)


class CompactedTopicFollower:
    def __init__(self, kafka: KafkaTarget, topic: str, on_record: OnRecord, what: str) -> None:
        self.kafka = kafka
        self.topic = topic
        self.on_record = on_record
        self.what = what
        self.caught_up = False
        self.problem: str | None = f"{what} not loaded yet"
        self._loaded = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"follow-{self.topic}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_caught_up(self) -> None:
        await self._loaded.wait()

    async def _run(self) -> None:
        await follow_forever(self._follow, self.what, self._report, log)

    def _report(self, problem: str) -> None:
        self.problem = problem

    async def _follow(self) -> None:
        consumer = new_consumer(
            self.kafka, enable_auto_commit=False, isolation_level="read_committed",
            fetch_max_wait_ms=200,
        )  # fmt: skip
        await consumer.start()
        try:
            _, ends = await _assign_from_start(consumer, self.kafka, self.topic)
            while True:
                _apply_all(self.on_record, await consumer.getmany(timeout_ms=500))
                if not self.caught_up and await _reached(consumer, ends):
                    self.caught_up = True
                    self.problem = None
                    self._loaded.set()
                    log.info("%s loaded from %s", self.what, self.topic)
        finally:
            await consumer.stop()


async def publish_compacted(
    kafka: KafkaTarget, topic: str, key: bytes, value: bytes, timeout: float = 15.0
) -> None:
    """Write one record (the latest value for ``key``) and wait for all replicas to have it.
    Raises KafkaUnreachable."""
    async with publisher(kafka, timeout) as out:
        await out.send(topic, key, value)
