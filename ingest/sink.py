"""Where accepted bodies go. ``KafkaSink`` returns only once Kafka acknowledged the record
(acks=all, idempotent producer) or raises ``SinkUnavailable`` within a bounded time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)

from ingest.kafkawatch import KafkaWatch
from kafkaio.clients import KafkaTarget, connection, new_producer
from kafkaio.diagnose import connection_problem
from schemas.errors import AlertpipeError

log = logging.getLogger("alertpipe.ingest.sink")

# Errors after which an idempotent aiokafka producer never sends again: its sender task ends
# (aiokafka 0.14 re-raises OutOfOrderSequenceNumber there, e.g. after a broker restart lost the
# tail of its log) and later records wait in its buffer forever. Only a new producer (a new
# producer id) recovers.
FATAL_TO_PRODUCER = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
    ProducerClosed,
)


class SinkUnavailable(AlertpipeError):
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
    connects, and aiokafka reconnects by itself after a broker restart. A producer that cannot
    go on (a delivery failed with an error in ``FATAL_TO_PRODUCER``: aiokafka fails every
    pending delivery with the error that ended its sender) is replaced by a new one; meanwhile
    requests get 503 at once. Once connected, ``KafkaWatch`` checks every few seconds that the
    raw topic has its leaders, so ``problem`` (the /readyz reason) also tells of a Kafka lost
    since (``watch_interval_s``, 0: no watch).
    """

    def __init__(
        self,
        kafka: KafkaTarget,
        topic: str,
        *,
        timeout: float,
        max_request_size: int,
        watch_interval_s: float = 2.0,
    ) -> None:
        self.kafka = connection(kafka)
        self.watch = KafkaWatch(self.kafka, topic, interval_s=watch_interval_s)
        self.watching = watch_interval_s > 0
        self.topic = topic
        self.timeout = timeout
        self.max_request_size = max_request_size
        self.replacements = 0  # producers replaced since start (tests and logs)
        self._producer: AIOKafkaProducer | None = None
        self._connector: asyncio.Task[None] | None = None
        self._problem: str | None = "not connected to Kafka yet"

    @property
    def ready(self) -> bool:
        return self._producer is not None

    @property
    def problem(self) -> str | None:
        return self._problem or self.watch.problem

    async def start(self) -> None:
        self._connector = asyncio.create_task(self._connect(), name="kafka-sink-connect")
        if self.watching:
            self.watch.start()

    def _replace(self, producer: AIOKafkaProducer, why: str) -> None:
        """Retire ``producer`` (once) and connect a new one in the background."""
        if producer is not self._producer:
            return  # already replaced
        self.replacements += 1
        self._producer = None
        self._problem = f"replacing the Kafka producer: {why}"
        log.warning("%s", self._problem)
        retiring = self._connector
        self._connector = asyncio.create_task(
            self._reconnect(producer, retiring), name="kafka-sink-reconnect"
        )

    async def _reconnect(self, old: AIOKafkaProducer, previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            previous.cancel()
        # its sender has ended, so stop() only closes the connections
        try:
            async with asyncio.timeout(2 * self.timeout + 5):
                await old.stop()
        except Exception as exc:
            log.warning("the replaced producer did not stop cleanly: %r", exc)
        await self._connect()

    def _watch(self, producer: AIOKafkaProducer, delivery: asyncio.Future[object]) -> None:
        """Replace the producer when a delivery fails with an error it cannot recover from,
        also one whose request already timed out (and nobody else reads its outcome)."""

        def done(future: asyncio.Future[object]) -> None:
            if future.cancelled():
                return
            exc = future.exception()
            if isinstance(exc, FATAL_TO_PRODUCER):
                self._replace(producer, repr(exc))

        delivery.add_done_callback(done)

    async def _connect(self) -> None:
        delay = 0.5
        while True:
            producer = new_producer(
                self.kafka,
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
                why = await connection_problem(self.kafka, min(5.0, self.timeout)) or repr(exc)
                self._problem = f"cannot reach Kafka at {self.kafka} ({why})"
                log.warning("producer not ready, retrying in %.1fs: %s", delay, self._problem)
                with contextlib.suppress(Exception):
                    await producer.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._producer = producer
            self._problem = None
            log.info("producer connected to %s", self.kafka)
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
                self._watch(producer, delivery)
                # shield: a timeout here must not cancel aiokafka's own delivery future.
                await asyncio.shield(delivery)
        except TimeoutError:
            raise SinkUnavailable(f"Kafka did not acknowledge within {self.timeout:.0f}s") from None
        except KafkaError as exc:
            raise SinkUnavailable(f"Kafka refused the record: {exc!r}") from exc

    async def stop(self) -> None:
        """Flush what is in flight, then close (SIGTERM path)."""
        await self.watch.stop()
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
