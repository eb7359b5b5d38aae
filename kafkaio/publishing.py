"""Writing many records from a CLI command: one idempotent producer (acks=all), deliveries
awaited in windows so memory stays bounded, every record acknowledged before the command
reports success."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from kafkaio.admin import KafkaUnreachable, start_within
from kafkaio.clients import KafkaTarget, new_producer

WINDOW = 2000  # records in flight before their acknowledgements are awaited


class Publisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._pending: list[Any] = []
        self.sent = 0

    async def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        delivery = await self._producer.send(topic, value=value, key=key, headers=headers)
        self._pending.append(delivery)
        self.sent += 1
        if len(self._pending) >= WINDOW:
            await self.settle()

    async def settle(self) -> None:
        """Wait until Kafka acknowledged everything sent; KafkaUnreachable if it refused."""
        try:
            await asyncio.gather(*self._pending)
        except KafkaError as exc:
            raise KafkaUnreachable(f"Kafka did not take the records: {exc!r}") from exc
        finally:
            self._pending.clear()


@contextlib.asynccontextmanager
async def publisher(kafka: KafkaTarget, timeout: float) -> AsyncIterator[Publisher]:
    """A Publisher whose records are all acknowledged when the block ends without error."""
    producer = new_producer(
        kafka,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=512 * 1024,
        request_timeout_ms=int(timeout * 1000),
    )
    await start_within(producer, producer.stop, kafka, timeout)
    try:
        out = Publisher(producer)
        yield out
        await out.settle()
    finally:
        await producer.stop()
