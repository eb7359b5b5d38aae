"""Integration keys in Kafka: each ingress process follows the compacted topic into a KeyTable,
so enabling or revoking a key reaches every running process within about a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ingest.keys import Integration, KeyTable, decode_integration, encode_integration

log = logging.getLogger("alertpipe.ingest.keys")


class KeyTopicMissing(RuntimeError):
    pass


async def _partitions(bootstrap_servers: str, topic: str) -> list[int]:
    # The admin client, because a consumer's partitions_for_topic() only knows topics it has
    # already fetched metadata for (consumer.topics() does not refresh that cache).
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(
        p["partition"] for t in described if t["error_code"] == 0 for p in t["partitions"]
    )


async def _assign_from_start(
    consumer: AIOKafkaConsumer, bootstrap_servers: str, topic: str
) -> tuple[list[TopicPartition], dict[TopicPartition, int]]:
    partitions = await _partitions(bootstrap_servers, topic)
    if not partitions:
        raise KeyTopicMissing(
            f"topic {topic} does not exist (create it with `alertpipe topics create`)"
        )
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    return tps, ends


def _apply(table: KeyTable, value: bytes | None) -> None:
    if value is None:
        return
    try:
        table.apply(decode_integration(value))
    except ValueError as exc:
        log.warning("skipping a malformed integration record: %s", exc)


class KeyStore:
    """Follows the integrations topic forever. ``caught_up`` turns true once everything that
    existed at start has been read; until then the ingress answers 503, not 404."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.table = KeyTable()
        self.caught_up = False
        self.problem: str | None = "integration keys not loaded yet"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="keystore")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.problem = f"cannot read integration keys: {exc}"
                log.warning("%s; retrying in 2s", self.problem)
                await asyncio.sleep(2.0)

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            fetch_max_wait_ms=200,
        )
        await consumer.start()
        try:
            tps, ends = await _assign_from_start(consumer, self.bootstrap_servers, self.topic)
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        _apply(self.table, record.value)
                if not self.caught_up:
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                        self.caught_up = True
                        self.problem = None
                        log.info("integration keys loaded (%d)", len(self.table.all()))
        finally:
            await consumer.stop()


async def publish_integration(bootstrap_servers: str, topic: str, item: Integration) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, encode_integration(item), key=item.key_id.encode())
    finally:
        await producer.stop()


async def read_integrations(bootstrap_servers: str, topic: str) -> KeyTable:
    """Everything in the topic now (for the CLI): read from the start to the end offsets."""
    table = KeyTable()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        tps, ends = await _assign_from_start(consumer, bootstrap_servers, topic)
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    _apply(table, record.value)
    finally:
        await consumer.stop()
    return table
