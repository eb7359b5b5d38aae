"""The ingress's producer is replaced when it cannot go on (found by the full single-broker
restart scenario: after a restart, aiokafka's idempotent producer hit OutOfOrderSequenceNumber,
its sender task ended, and every later request timed out with 503 until the ingress was
restarted; the full scenario is the end-to-end check). aiokafka fails every pending delivery
with the error that ended its sender: the test fails one that way."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber

from alertpipe.harness import fresh_topics
from ingest.sink import KafkaSink, SinkUnavailable


async def until_delivered(sink: KafkaSink, topic: str, timeout: float) -> float:
    """Seconds until a record is acknowledged again (fails the test after ``timeout``)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            await sink.send(topic, b"k", b"after", [])
            return time.monotonic() - started
        except SinkUnavailable:
            await asyncio.sleep(0.2)
    pytest.fail(f"nothing acknowledged within {timeout:.0f}s; sink problem: {sink.problem}")


async def test_a_producer_that_cannot_go_on_is_replaced(kafka_bootstrap: str) -> None:
    bootstrap = kafka_bootstrap
    topics = await fresh_topics(bootstrap, partitions=1)
    sink = KafkaSink(bootstrap, topics.raw, timeout=3, max_request_size=1 << 20)
    await sink.start()
    try:
        await until_delivered(sink, topics.raw, 30)
        producer = sink._producer
        assert producer is not None
        # what aiokafka's sender task fails pending deliveries with before it ends
        doomed: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        sink._watch(producer, doomed)
        doomed.set_exception(OutOfOrderSequenceNumber())
        await asyncio.sleep(0)
        assert sink.replacements == 1
        assert not sink.ready
        assert "OutOfOrderSequenceNumber" in (sink.problem or "")
        with pytest.raises(SinkUnavailable):
            await sink.send(topics.raw, b"k", b"meanwhile", [])
        await until_delivered(sink, topics.raw, 30)
        assert sink._producer is not producer
    finally:
        await sink.stop()
