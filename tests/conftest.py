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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.choice import BrokerKind, choose_broker, docker_daemon_answers
from alertpipe.localbroker.jars import LocalKafkaError
from alertpipe.localbroker.tls import ClientTls, make_ca, make_client_cert
from kafkaio.admin import KafkaUnreachable, answers
from kafkaio.clients import KafkaConnection
from kafkaio.env import Env
from kafkaio.security import load_security

# testcontainers path (machines with Docker): Confluent's image in KRaft mode, the one
# testcontainers' KafkaContainer is built for.
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"
OTHER_CA_PASSWORD = "other-ca-password"


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


@dataclass(frozen=True)
class SecureKafka:
    """The session's second broker, started with ``--security sasl_ssl``: TLS with its own CA
    and SCRAM-SHA-256/512 and PLAIN for one user."""

    env: dict[str, str]  # the client settings it prints (KAFKA_BOOTSTRAP_SERVERS, ...)
    kafka: KafkaConnection  # the same, read through the settings code


@pytest.fixture(scope="session")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    """A local broker with a SASL_SSL listener (one extra broker start for the session; Java
    is needed whichever broker the other tests use)."""
    broker = LocalBroker(
        tmp_path_factory.mktemp("kafka-sasl"), heap="384m", echo=lambda _: None,
        security="sasl_ssl",
    )  # fmt: skip
    try:
        status = broker.start()
    except LocalKafkaError as exc:
        pytest.fail(f"could not start the sasl_ssl broker for the tests: {exc}", False)
    assert status.bootstrap_servers is not None
    try:
        env = broker.client_env()
        yield SecureKafka(env, KafkaConnection(status.bootstrap_servers, load_security(Env(env))))
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA (PEM) that signed nothing the tests' brokers present: a valid file to trust, and
    the wrong one."""
    return make_ca(tmp_path_factory.mktemp("other-ca"), "other-ca", OTHER_CA_PASSWORD)


@pytest.fixture(scope="session")
def other_ca_client(other_ca: Path) -> ClientTls:
    """A client certificate and key signed by ``other_ca``: well formed, and trusted by no
    broker of the tests."""
    return make_client_cert(other_ca.with_suffix(".p12"), OTHER_CA_PASSWORD, other_ca.parent,
                            "stranger")  # fmt: skip


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
