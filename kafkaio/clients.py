"""The one place Kafka clients are made: every aiokafka producer, consumer and admin client of
alertpipe comes from ``new_producer``, ``new_consumer`` or ``new_admin``, and the worker's
librdkafka config from ``KafkaConnection.librdkafka_config``, so none can miss the TLS and
SASL settings (``tests/kafkaio/test_clients.py`` fails on a client built anywhere else).
``new_acl_admin`` is librdkafka's admin client, for what aiokafka's lacks (ACLs, SCRAM
users)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from kafkaio.security import KafkaSecurity

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient


@dataclass(frozen=True)
class KafkaConnection:
    """Where a cluster is and how to talk to it. ``repr`` masks the secrets."""

    bootstrap_servers: str
    security: KafkaSecurity = field(default_factory=KafkaSecurity)

    def client_args(self) -> dict[str, Any]:
        """aiokafka's connection arguments (a fresh SSL context each call)."""
        return {"bootstrap_servers": self.bootstrap_servers, **self.security.aiokafka_args()}

    def librdkafka_config(self) -> dict[str, str]:
        return {"bootstrap.servers": self.bootstrap_servers, **self.security.librdkafka_config()}

    def env(self) -> dict[str, str]:
        """What makes a child process connect the same way (see ``load_settings``)."""
        return {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers, **self.security.env()}

    def __str__(self) -> str:
        return self.bootstrap_servers


# A bare address means PLAINTEXT, as aiokafka's own bootstrap_servers does: for tests and
# benchmarks against the local broker. The commands always pass a KafkaConnection.
KafkaTarget = KafkaConnection | str


def connection(target: KafkaTarget) -> KafkaConnection:
    return target if isinstance(target, KafkaConnection) else KafkaConnection(target)


def new_producer(target: KafkaTarget, **options: Any) -> AIOKafkaProducer:
    return AIOKafkaProducer(**connection(target).client_args(), **options)


def new_consumer(target: KafkaTarget, *topics: str, **options: Any) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(*topics, **connection(target).client_args(), **options)


def new_admin(target: KafkaTarget, **options: Any) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**connection(target).client_args(), **options)


def new_acl_admin(target: KafkaTarget) -> AdminClient:
    """librdkafka's admin client (ACLs and SCRAM credentials, which aiokafka's has not).
    Imported here, not above: the ingress imports this module and loads no librdkafka."""
    from confluent_kafka.admin import AdminClient

    # Warnings and worse only: a destroyed handle logs its purged queues at info.
    return AdminClient({**connection(target).librdkafka_config(), "log_level": 4})
