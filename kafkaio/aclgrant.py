"""Applying ``kafkaio.acls`` to a cluster, and SCRAM users, through librdkafka's admin client
(aiokafka's has neither): in-process and in milliseconds, where Kafka's own ``kafka-acls`` and
``kafka-configs`` tools start a JVM per call. Runs as a principal allowed to alter ACLs (a
super user). Synchronous: librdkafka's admin calls return futures on its own threads."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from kafkaio.acls import Acl
from kafkaio.clients import KafkaTarget, new_acl_admin
from schemas.errors import AlertpipeError

RESOURCE = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "transactional-id": ResourceType.TRANSACTIONAL_ID,
}
OPERATION = {
    "Create": AclOperation.CREATE,
    "Describe": AclOperation.DESCRIBE,
    "DescribeConfigs": AclOperation.DESCRIBE_CONFIGS,
    "Read": AclOperation.READ,
    "Write": AclOperation.WRITE,
}
PATTERN = {"literal": ResourcePatternType.LITERAL, "prefixed": ResourcePatternType.PREFIXED}
SCRAM_ITERATIONS = 8192  # Kafka's minimum is 4096


class AclGrantError(AlertpipeError, RuntimeError):
    """The cluster refused an ACL or a SCRAM credential; the message says which and why."""


def binding(principal: str, acl: Acl) -> AclBinding:
    """Allow ``principal`` (``User:<name>``) ``acl`` from any host."""
    return AclBinding(
        RESOURCE[acl.resource], acl.name, PATTERN[acl.pattern], principal, "*",
        OPERATION[acl.operation], AclPermissionType.ALLOW,
    )  # fmt: skip


def grant(kafka: KafkaTarget, principal: str, acls: Iterable[Acl], timeout: float = 15.0) -> None:
    """Create the ACLs (idempotent: an existing one is left as it is)."""
    bindings = [binding(principal, acl) for acl in acls]
    if not bindings:
        return
    admin = new_acl_admin(kafka)  # kept until the futures resolve (see upsert_scram_user)
    futures = admin.create_acls(bindings, request_timeout=timeout)
    refused = []
    for bound, future in futures.items():
        try:
            future.result()
        except Exception as exc:  # librdkafka's KafkaException, one per binding
            refused.append(f"{bound}: {exc}")
    if refused:
        raise AclGrantError("Kafka refused ACLs: " + "; ".join(refused))


def upsert_scram_user(kafka: KafkaTarget, user: str, password: str, timeout: float = 15.0) -> None:
    """Create ``user`` (or set its password) for SCRAM-SHA-256 and SCRAM-SHA-512: one request
    each (Kafka refuses two alterations of one user in a request)."""
    admin = new_acl_admin(kafka)  # kept until the futures resolve: a dropped one cancels them
    for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512):
        info = ScramCredentialInfo(mechanism, SCRAM_ITERATIONS)
        upsert = UserScramCredentialUpsertion(user, info, password.encode())
        futures = admin.alter_user_scram_credentials([upsert], request_timeout=timeout)
        for name, future in futures.items():
            try:
                future.result()
            except Exception as exc:
                raise AclGrantError(
                    f"Kafka refused the {mechanism.name} credentials of {name}: {exc}"
                ) from exc
