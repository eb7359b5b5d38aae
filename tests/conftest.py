"""Session-wide Kafka for the tests, chosen by alertpipe.localbroker.choice (the same rule as
``make run``): KAFKA_BOOTSTRAP_SERVERS, else testcontainers when Docker answers, else a local
broker from Maven-resolved jars in a temporary state dir. If none can be had, every test that
needs Kafka errors with the reason: nothing is skipped.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any, Protocol

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.choice import BrokerKind, choose_broker, docker_daemon_answers
from alertpipe.localbroker.jars import LocalKafkaError
from kafkaio.admin import KafkaUnreachable, answers

# testcontainers path (machines with Docker): Confluent's image in KRaft mode, the one
# testcontainers' KafkaContainer is built for.
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"


class NewTopicFactory(Protocol):
    """What the ``new_topic`` fixture gives: an async function returning the topic's name."""

    def __call__(
        self, partitions: int = 1, configs: dict[str, str] | None = None
    ) -> Coroutine[Any, Any, str]: ...


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real broker for the whole session."""
    choice = choose_broker(os.environ, "tests", docker_daemon_answers)
    if choice.kind is BrokerKind.EXTERNAL:
        assert choice.bootstrap_servers is not None
        if not answers(choice.bootstrap_servers, timeout=10.0):
            pytest.fail(
                f"KAFKA_BOOTSTRAP_SERVERS={choice.bootstrap_servers} does not answer", False
            )
        yield choice.bootstrap_servers
    elif choice.kind is BrokerKind.TESTCONTAINERS:
        # testcontainers.kafka is a deprecated alias that warns (an error in this suite).
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        broker = LocalBroker(tmp_path_factory.mktemp("kafka"), echo=lambda _: None)
        try:
            status = broker.start()
        except LocalKafkaError as exc:
            pytest.fail(
                f"could not start a Kafka broker for the tests ({choice.reason}): {exc}", False
            )
        assert status.bootstrap_servers is not None
        try:
            yield status.bootstrap_servers
        finally:
            broker.stop()


def _unique(request: pytest.FixtureRequest, kind: str) -> str:
    stem = re.sub(r"[^a-zA-Z0-9._-]", "_", request.node.name)[:60]
    return f"test.{kind}.{stem}.{uuid.uuid4().hex[:8]}"


@pytest.fixture
def new_topic(kafka_bootstrap: str, request: pytest.FixtureRequest) -> NewTopicFactory:
    """``await new_topic(partitions=N, configs={...})`` creates a fresh, uniquely named topic."""

    async def make(partitions: int = 1, configs: dict[str, str] | None = None) -> str:
        name = _unique(request, "topic")
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            response = await admin.create_topics(
                [NewTopic(name, partitions, 1, topic_configs=configs or {})]
            )
            errors = [e for e in response.topic_errors if e[1] != 0]
            if errors:
                raise KafkaUnreachable(f"could not create test topic {name}: {errors}")
        finally:
            await admin.close()
        return name

    return make


@pytest.fixture
def group_id(request: pytest.FixtureRequest) -> str:
    """A consumer group id no other test uses."""
    return _unique(request, "group")
