"""The ingress's readiness between deliveries (``ingest.kafkawatch``): what a metadata answer
means, and a check against the real broker and against an address where nothing listens.
The broker going away under a running ingress is in tests/faults/test_broker_faults.py."""

from __future__ import annotations

import time
from typing import Any

import pytest

from alertpipe.harness import fresh_topics
from alertpipe.ports import free_port
from ingest.kafkawatch import KafkaWatch, leaderless
from kafkaio.clients import connection


def described(*leaders: int, topic: str = "alerts.raw", error: int = 0) -> list[dict[str, Any]]:
    partitions = [{"partition": n, "leader": leader} for n, leader in enumerate(leaders)]
    return [{"topic": topic, "error_code": error, "partitions": partitions}]


def test_every_partition_with_a_leader_is_no_problem() -> None:
    assert leaderless(described(1, 2, 1), "alerts.raw") is None


def test_partitions_without_a_leader_are_named() -> None:
    assert leaderless(described(1, -1, 2, -1), "alerts.raw") == (
        "partition(s) 1, 3 of alerts.raw have no leader"
    )


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (described(1, error=3), "Kafka answers error 3 for topic alerts.raw"),
        (described(1, topic="other"), "Kafka did not describe topic alerts.raw"),
        (described(), "topic alerts.raw has no partitions"),
    ],
)
def test_a_topic_kafka_cannot_take_records_for_is_a_problem(
    answer: list[dict[str, Any]], problem: str
) -> None:
    assert leaderless(answer, "alerts.raw") == problem


@pytest.mark.kafka
async def test_the_real_broker_with_the_topic_is_no_problem(kafka_bootstrap: str) -> None:
    topics = await fresh_topics(kafka_bootstrap, partitions=3)
    watch = KafkaWatch(connection(kafka_bootstrap), topics.raw)
    try:
        assert await watch.check() is None
        assert await watch.check() is None  # the same admin client, asked again
        missing = KafkaWatch(connection(kafka_bootstrap), f"{topics.raw}.missing")
        assert "missing" in (await missing.check() or "")
        await missing.stop()
    finally:
        await watch.stop()


async def test_no_broker_is_a_problem_within_the_timeout() -> None:
    watch = KafkaWatch(connection(f"127.0.0.1:{free_port()}"), "alerts.raw", timeout_s=1.0)
    started = time.monotonic()
    try:
        problem = await watch.check()
    finally:
        await watch.stop()
    assert problem is not None
    assert "did not answer a metadata request within 1s" in problem
    assert time.monotonic() - started < 5.0  # bounded: the check never hangs
