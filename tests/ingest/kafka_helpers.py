"""Shared by the ingress tests that run against the real broker."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from alertpipe.settings import Settings, TopicSettings
from alertpipe.topics import ensure_topics, topic_specs


async def fresh_topics(bootstrap: str, partitions: int = 3) -> TopicSettings:
    tag = uuid.uuid4().hex[:8]
    topics = TopicSettings(
        raw=f"t.{tag}.raw",
        normalized=f"t.{tag}.norm",
        dead_letter=f"t.{tag}.dlq",
        integrations=f"t.{tag}.keys",
        partitions=partitions,
    )
    await ensure_topics(bootstrap, topic_specs(topics))
    return topics


def kafka_settings(bootstrap: str, topics: TopicSettings) -> Settings:
    return Settings(bootstrap_servers=bootstrap, topics=topics)


async def read_all(
    bootstrap: str, topic: str, expected: int, timeout: float = 30
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read ``topic`` from the start until ``expected`` records arrived (or the timeout)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < expected:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(records)
        # a little longer, to catch anything that should not be there
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            found.extend(records)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return found
