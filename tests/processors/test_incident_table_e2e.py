"""The incident table on the real broker: its changelog is compacted (so recovery never chases
deleted segments), and expired states are swept: the expiry timer asks stage 2 to drop them,
which writes a tombstone to the changelog."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from alertpipe.settings import TopicSettings
from alertpipe.topics import connected_admin
from schemas.raw import RawHeaders, raw_record_key
from tests.ingest.kafka_helpers import fresh_topics
from tests.processors.faults import produce
from tests.processors.test_worker_e2e import by_org, consume, pipeline_env, wait_until_ready

ORG = "expiry"


@pytest.fixture
def short_lived(kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[TopicSettings, str]]:
    """A worker that forgets resolved incidents after 2 s and sweeps every 2 s."""
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=1))
    env = pipeline_env(kafka_bootstrap, topics, tmp_path / "data")
    env.update(ALERTPIPE_RESOLVED_TTL_S="2", ALERTPIPE_SWEEP_INTERVAL_S="2")
    log = tmp_path / "worker.log"
    with log.open("w") as out, subprocess.Popen(
        [sys.executable, "-m", "alertpipe.cli", "worker"], env=env, stdout=out,
        stderr=subprocess.STDOUT,
    ) as proc:  # fmt: skip
        try:
            wait_until_ready(proc, log)
            yield topics, env["ALERTPIPE_WORKER_GROUP"]
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def recovery(entity: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    now = int(time.time())
    body = json.dumps({"message_type": "RECOVERY", "entity_id": entity, "timestamp": now})
    headers = RawHeaders(
        source="generic",
        org=ORG,
        key_id="kexp",
        routing_key="ops",
        content_type="application/json",
        received_at=now * 1000,
        request_id="r1",
        remote_addr="127.0.0.1",
        user_agent="test",
        entity_id=None,
    ).to_kafka()
    return raw_record_key(ORG, "ops"), body.encode(), headers


async def changelog_records(bootstrap: str, topic: str, key: bytes, timeout: float) -> list[Any]:
    """The changelog's records for ``key`` once one of them is a tombstone (or ``timeout``)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(r.value is None for r in found):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(r for r in batch if r.key == key)
    finally:
        await consumer.stop()
    return found


async def cleanup_policy(bootstrap: str, topic: str) -> str:
    async with connected_admin(bootstrap, 15.0) as admin:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    for response in responses:
        for *_, entries in response.resources:
            for name, value, *_ in entries:
                if name == "cleanup.policy":
                    return str(value)
    raise AssertionError(f"no cleanup.policy for {topic}")


async def test_expired_states_are_swept_into_a_compacted_changelog(
    kafka_bootstrap: str, short_lived: tuple[TopicSettings, str]
) -> None:
    topics, group = short_lived
    await produce(kafka_bootstrap, topics.raw, [recovery("db-7")], seconds=0)
    emitted = await consume(kafka_bootstrap, topics.normalized, 1, by_org(ORG))
    assert [json.loads(r.value)["entity_id"] for r in emitted] == ["db-7"]

    changelog = f"{group}-incidents-changelog"
    records = await changelog_records(kafka_bootstrap, changelog, f"{ORG}/db-7".encode(), 60)
    assert records, "no state was written for the incident"
    assert records[0].value is not None
    assert json.loads(records[0].value)["status"] == "resolved"
    assert records[-1].value is None, "the expired state was not deleted within 60 s"
    assert await cleanup_policy(kafka_bootstrap, changelog) == "compact"
