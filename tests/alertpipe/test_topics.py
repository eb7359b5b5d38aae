from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import replace

import pytest

from alertpipe.ports import free_port
from kafkaio.admin import KafkaUnreachable
from kafkaio.settings import DAY_MS, TopicSettings, prefixed_topics
from kafkaio.topics import TopicCreationError, ensure_topics, topic_specs
from kafkaio.worker_topics import internal_topics


def test_specs_follow_settings_and_add_min_isr_only_when_replicated() -> None:
    single = topic_specs(TopicSettings())
    assert [s.name for s in single] == [
        "alerts.raw",
        "alerts.normalized",
        "alerts.dead-letter",
        "alertpipe.integrations",
        "alertpipe.routes",
        "alertpipe.maintenance",
    ]
    assert single[5].configs == {"cleanup.policy": "compact,delete", "retention.ms": "7776000000"}
    assert single[5].partitions == 1
    assert single[3].configs == {"cleanup.policy": "compact", "retention.ms": "-1"}
    assert single[3].partitions == 1
    assert single[4].configs == single[3].configs
    assert single[4].configs == single[3].configs
    assert single[0].configs == {"retention.ms": str(7 * DAY_MS)}
    assert all("min.insync.replicas" not in s.configs for s in single)

    replicated = topic_specs(TopicSettings(replication_factor=3, partitions=12))
    assert {s.configs["min.insync.replicas"] for s in replicated} == {"2"}
    assert {(s.partitions, s.replication_factor) for s in replicated[:3]} == {(12, 3)}
    assert {(s.partitions, s.replication_factor) for s in replicated[3:6]} == {(1, 3)}
    assert len(replicated) == 6
    explicit = topic_specs(TopicSettings(replication_factor=3, min_insync_replicas=3))
    assert explicit[0].configs["min.insync.replicas"] == "3"


def test_a_worker_group_adds_its_internal_topics_replicated_like_the_others() -> None:
    specs = topic_specs(TopicSettings(replication_factor=3, partitions=12), "alertpipe-worker")
    internal = internal_topics("alertpipe-worker", "alerts.raw")
    repartition, changelog = specs[6:]
    assert (repartition.name, changelog.name) == (internal.repartition, internal.changelog)
    assert {(s.partitions, s.replication_factor) for s in specs[6:]} == {(12, 3)}
    assert repartition.configs["min.insync.replicas"] == changelog.configs["min.insync.replicas"]
    assert changelog.configs["cleanup.policy"] == "compact"
    assert "cleanup.policy" not in repartition.configs
    single = topic_specs(TopicSettings(partitions=1), "g")
    assert [(s.name, s.partitions) for s in single[6:]] == [
        (internal_topics("g", "alerts.raw").repartition, 1),
        (internal_topics("g", "alerts.raw").changelog, 1),
    ]


def fresh_settings(**overrides: int) -> TopicSettings:
    return prefixed_topics(f"t.{uuid.uuid4().hex[:8]}", **overrides)


async def test_create_is_idempotent_and_reports_what_existed(kafka_bootstrap: str) -> None:
    settings = fresh_settings(partitions=2)
    first = await ensure_topics(kafka_bootstrap, topic_specs(settings))
    assert [(o.created, o.partitions, o.warning) for o in first] == [
        *[(True, 2, None)] * 3,
        (True, 1, None),
        (True, 1, None),
        (True, 1, None),
    ]

    second = await ensure_topics(kafka_bootstrap, topic_specs(settings))
    assert [(o.created, o.partitions, o.warning) for o in second] == [
        *[(False, 2, None)] * 3,
        (False, 1, None),
        (False, 1, None),
        (False, 1, None),
    ]

    warned = await ensure_topics(kafka_bootstrap, topic_specs(replace(settings, partitions=4)))
    assert not any(o.created for o in warned)
    assert all(o.warning and "has 2 partitions" in o.warning for o in warned[:3])
    assert warned[3].warning is None
    assert warned[4].warning is None
    assert warned[5].warning is None


async def test_replication_beyond_the_cluster_is_a_clear_error(kafka_bootstrap: str) -> None:
    with pytest.raises(TopicCreationError, match="replication"):
        await ensure_topics(kafka_bootstrap, topic_specs(fresh_settings(replication_factor=3)))


async def test_unreachable_broker_raises_within_the_timeout() -> None:
    with pytest.raises(KafkaUnreachable, match="cannot reach Kafka"):
        await ensure_topics(f"127.0.0.1:{free_port()}", topic_specs(TopicSettings()), timeout=2)


def test_cli_says_clearly_when_the_broker_is_unreachable() -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    result = subprocess.run(
        [sys.executable, "-m", "alertpipe.cli", "topics", "create", "--timeout", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 69
    assert result.stderr.startswith("error: cannot reach Kafka at 127.0.0.1:")
    assert "Traceback" not in result.stderr
