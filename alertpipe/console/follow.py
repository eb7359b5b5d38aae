"""Follow whole topics into the console's view (the I/O shell of ``alertpipe.console.view``):
each topic from a start (its beginning, or a time back), then live, ``read_committed``. A
record goes to ``on_record`` with its key, value, headers, partition, offset and timestamp,
which the compacted-topic follower (``kafkaio.follower``) does not pass."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import TopicPartition

from kafkaio.admin import partition_ids
from kafkaio.clients import KafkaTarget, new_consumer
from kafkaio.follower import follow_forever

log = logging.getLogger("alertpipe.console.follow")

OnFullRecord = Callable[[Any], None]


class TopicFollower:
    """``since_ms`` None: from the beginning; else from the first record at or after it.
    ``caught_up`` once every record that existed at start has been fed; ``problem`` says why
    not (a missing topic, an unreachable broker), retried every 2 s."""

    def __init__(
        self, kafka: KafkaTarget, topic: str, on_record: OnFullRecord, since_ms: int | None = None
    ) -> None:
        self.kafka = kafka
        self.topic = topic
        self.on_record = on_record
        self.since_ms = since_ms
        self.caught_up = False
        self.problem: str | None = f"{topic} not read yet"
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"console-follow-{self.topic}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        await follow_forever(self._follow, self.topic, self._report, log)

    def _report(self, problem: str) -> None:
        self.problem = problem

    async def _follow(self) -> None:
        partitions = await partition_ids(self.kafka, self.topic)
        if not partitions:
            raise LookupError(f"topic {self.topic} does not exist")
        consumer = new_consumer(
            self.kafka, enable_auto_commit=False, isolation_level="read_committed",
            fetch_max_wait_ms=200, max_partition_fetch_bytes=4 * 1024 * 1024,
        )  # fmt: skip
        await consumer.start()
        try:
            tps = [TopicPartition(self.topic, p) for p in partitions]
            consumer.assign(tps)
            await self._seek(consumer, tps)
            ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                for records in batches.values():
                    for record in records:
                        self.on_record(record)
                if not self.caught_up and all(
                    [await consumer.position(tp) >= end for tp, end in ends.items()]
                ):
                    self.caught_up = True
                    self.problem = None
        finally:
            await consumer.stop()

    async def _seek(self, consumer: Any, tps: list[TopicPartition]) -> None:
        if self.since_ms is None:
            await consumer.seek_to_beginning(*tps)
            return
        found = await consumer.offsets_for_times({tp: self.since_ms for tp in tps})
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            at = found.get(tp)
            consumer.seek(tp, at.offset if at is not None else ends[tp])
