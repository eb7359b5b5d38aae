"""Where accepted bodies go. ``KafkaSink`` returns only once Kafka acknowledged the record
(acks=all, idempotent producer) or raises ``SinkUnavailable`` within a bounded time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

log = logging.getLogger("alertpipe.ingest.sink")


class SinkUnavailable(Exception):
    """The record is not known to be durable; the sender must retry (503)."""


class RawSink(Protocol):
    @property
    def ready(self) -> bool: ...

    @property
    def problem(self) -> str | None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None: ...


class KafkaSink:
    """One idempotent producer per process, (re)connected in the background.

    The HTTP server starts even when Kafka is down: requests then get 503 until the producer
    connects, and aiokafka reconnects by itself after a broker restart.
    """

    def __init__(
        self, bootstrap_servers: str, topic: str, *, timeout: float, max_request_size: int
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.timeout = timeout
        self.max_request_size = max_request_size
        self._producer: AIOKafkaProducer | None = None
        self._connector: asyncio.Task[None] | None = None
        self._problem: str | None = "not connected to Kafka yet"

    @property
    def ready(self) -> bool:
        return self._producer is not None

    @property
    def problem(self) -> str | None:
        return self._problem

    async def start(self) -> None:
        self._connector = asyncio.create_task(self._connect(), name="kafka-sink-connect")

    async def _connect(self) -> None:
        delay = 0.5
        while True:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=int(self.timeout * 1000),
                max_request_size=self.max_request_size,
                linger_ms=1,
                # 16 KiB (the default) holds ~9 webhook bodies; one partition carries a whole
                # alert storm of one routing key, so let a round trip carry many more.
                max_batch_size=512 * 1024,
            )
            try:
                await producer.start()
                async with asyncio.timeout(self.timeout):
                    await producer.partitions_for(self.topic)  # topic known, or fail here
            except Exception as exc:
                self._problem = f"cannot reach Kafka at {self.bootstrap_servers} ({exc!r})"
                log.warning("producer not ready, retrying in %.1fs: %s", delay, self._problem)
                with contextlib.suppress(Exception):
                    await producer.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._producer = producer
            self._problem = None
            log.info("producer connected to %s", self.bootstrap_servers)
            return

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        producer = self._producer
        if producer is None:
            raise SinkUnavailable(self._problem or "not connected to Kafka")
        try:
            async with asyncio.timeout(self.timeout):
                delivery = await producer.send(topic, value=value, key=key, headers=headers)
                # shield: a timeout here must not cancel aiokafka's own delivery future.
                await asyncio.shield(delivery)
        except TimeoutError:
            raise SinkUnavailable(f"Kafka did not acknowledge within {self.timeout:.0f}s") from None
        except KafkaError as exc:
            raise SinkUnavailable(f"Kafka refused the record: {exc!r}") from exc

    async def stop(self) -> None:
        """Flush what is in flight, then close (SIGTERM path)."""
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


class NullSink:
    """Answers at once and keeps nothing: ONLY for measuring the HTTP ceiling in benchmarks."""

    ready = True
    problem = None

    async def start(self) -> None:
        log.warning("NULL SINK: requests are acknowledged WITHOUT being written to Kafka")

    async def stop(self) -> None:
        return None

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        return None
