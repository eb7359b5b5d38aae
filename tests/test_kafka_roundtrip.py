"""The fixtures give a real broker: produce with the ingress's settings, consume it back."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.conftest import NewTopicFactory
from tests.kafka_records import Record, value_of


async def test_produce_and_consume_round_trip_keeps_bytes_headers_and_key_order(
    kafka_bootstrap: str, new_topic: NewTopicFactory, group_id: str
) -> None:
    topic = await new_topic(partitions=3)
    sent = [(f"org-{i % 2}".encode(), f'{{"n": {i}}}'.encode() + b"\xff") for i in range(20)]
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for key, value in sent:
            await producer.send_and_wait(
                topic, value=value, key=key, headers=[("source", b"generic"), ("n", value[:8])]
            )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        isolation_level="read_committed",
        bootstrap_servers=kafka_bootstrap,
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[Record] = []
    try:
        async with asyncio.timeout(30):
            while len(received) < len(sent):
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    received.extend(records)
    finally:
        await consumer.stop()

    assert len(received) == len(sent)
    for key in (b"org-0", b"org-1"):
        in_order = [r.value for r in sorted(received, key=lambda r: r.offset) if r.key == key]
        assert in_order == [v for k, v in sent if k == key]
        assert len({r.partition for r in received if r.key == key}) == 1
    for record in received:
        assert dict(record.headers)["source"] == b"generic"
        assert dict(record.headers)["n"] == value_of(record)[:8]
