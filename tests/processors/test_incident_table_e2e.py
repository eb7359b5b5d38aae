"""The incident state on the real broker: its changelog is compacted (so recovery never chases
deleted segments), and expired states leave it: quixstreams' event-time TTL drops a state once
a later record of its partition is past the state's TTL, with a tombstone in the changelog."""

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

from alertpipe.harness import fresh_topics, worker_env
from kafkaio.admin import connected_admin
from kafkaio.settings import TopicSettings
from kafkaio.worker_topics import internal_topics
from schemas.raw import RawHeaders, raw_record_key
from tests.processors.faults import produce
from tests.processors.test_worker_e2e import by_org, consume, wait_until_ready

ORG = "expiry"


@pytest.fixture
def short_lived(kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[TopicSettings, str]]:
    """A worker that forgets resolved incidents 2 s after they were last seen."""
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=1))
    env = worker_env(kafka_bootstrap, topics, tmp_path / "data")
    env.update(ALERTPIPE_RESOLVED_TTL_S="2")
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
    now = int(time.time())  # the raw record's timestamp: the state's event time
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


async def changelog_records(
    bootstrap: str, topic: str, key: bytes, timeout: float, want_tombstone: bool = True
) -> list[Any]:
    """The changelog's records for ``key`` once one of them is a tombstone, or (not
    ``want_tombstone``) once there is one (or after ``timeout``)."""
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

        def done() -> bool:
            return any(r.value is None for r in found) if want_tombstone else bool(found)

        while time.monotonic() < deadline and not done():
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(r for r in batch if r.key.startswith(key))  # key + state key
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

    changelog = internal_topics(group, topics.raw).changelog
    key = f"{ORG}/db-7".encode()
    written = await changelog_records(kafka_bootstrap, changelog, key, 30, want_tombstone=False)
    assert written, "no state was written for the incident"
    assert b'"status":"resolved"' in written[0].value  # behind quixstreams' TTL stamp
    await asyncio.sleep(3)  # past the 2 s TTL; a later record moves the partition's event time
    await produce(kafka_bootstrap, topics.raw, [recovery("db-8")], seconds=0)
    records = await changelog_records(kafka_bootstrap, changelog, key, 60)
    assert records[-1].value is None, "the expired state was not deleted within 60 s"
    assert await cleanup_policy(kafka_bootstrap, changelog) == "compact"
