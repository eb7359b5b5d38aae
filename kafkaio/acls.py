"""The Kafka ACLs each component needs, as data: what docs/operations.md shows, what
``alertpipe kafka acls`` prints as ``kafka-acls`` commands, and what the ACL test grants on a
broker with the authorizer on (tests/kafkaio/test_acls_e2e.py). Pure: names in, rules out.

Found by reading the clients (and checked on the broker): the ingress's idempotent producer
needs no cluster ACL (since Kafka 3.0, Write on a topic allows an idempotent producer id,
KIP-679); the worker's transactional ids are ``<group>-<instance id or random>``, hence one
prefixed rule; every other rule names one resource exactly. No rule says Describe: Kafka
implies it from Read and Write (and DescribeConfigs from AlterConfigs, unused here).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from kafkaio.settings import TopicSettings
from kafkaio.worker_topics import internal_topics

COMPONENTS = ("ingress", "worker", "operator")
RESOURCE_TYPES = ("topic", "group", "transactional-id")


@dataclass(frozen=True, order=True)
class Acl:
    """Allow ``operation`` on the resource(s) that ``resource``/``name``/``pattern`` select.
    ``pattern`` is Kafka's: ``literal`` (that name) or ``prefixed`` (names starting with it)."""

    resource: str  # one of RESOURCE_TYPES
    name: str
    pattern: str  # "literal" or "prefixed"
    operation: str  # Kafka's AclOperation, as kafka-acls spells it: Read, Write, Describe...


@dataclass(frozen=True)
class AclRow:
    """One resource of a component with every operation allowed on it (a table row, one
    ``kafka-acls`` command)."""

    resource: str
    name: str
    pattern: str
    operations: tuple[str, ...]
    why: str


def transactional_prefix(group: str) -> str:
    """What every transactional id of the worker group starts with (processors.worker.run)."""
    return f"{group}-"


def component_rows(component: str, topics: TopicSettings, worker_group: str) -> list[AclRow]:
    """The resources ``component`` touches with the operations it needs on each, for these
    topic names and this worker group (ALERTPIPE_WORKER_GROUP). ValueError: unknown name."""
    internal = internal_topics(worker_group, topics.raw)
    if component == "ingress":
        return [
            AclRow("topic", topics.raw, "literal", ("Write",),
                   "writes accepted bodies (idempotent producer); /readyz describes it"),
            AclRow("topic", topics.integrations, "literal", ("Read",), "follows the keys"),
        ]  # fmt: skip
    if component == "worker":
        return [
            AclRow("topic", topics.raw, "literal", ("DescribeConfigs", "Read"),
                   "consumes it; quixstreams checks its configs at start"),
            AclRow("topic", topics.normalized, "literal", ("DescribeConfigs", "Write"),
                   "delivers alerts"),
            AclRow("topic", topics.dead_letter, "literal", ("DescribeConfigs", "Write"),
                   "dead letters"),
            AclRow("topic", topics.routes, "literal", ("Read",), "follows the routing configs"),
            AclRow("topic", topics.maintenance, "literal", ("Read",),
                   "follows the maintenance windows"),
            AclRow("topic", internal.repartition, "literal",
                   ("Create", "DescribeConfigs", "Read", "Write"),
                   "stage 1 to stage 2; the worker creates it if missing"),
            AclRow("topic", internal.changelog, "literal",
                   ("Create", "DescribeConfigs", "Read", "Write"),
                   "incident states; read back on recovery"),
            AclRow("group", worker_group, "literal", ("Read",),
                   "its consumer group (offsets committed in its transactions)"),
            AclRow("transactional-id", transactional_prefix(worker_group), "prefixed",
                   ("Write",), "exactly-once: `<group>-<instance id or random>`"),
        ]  # fmt: skip
    if component == "operator":
        rw = ("Create", "Read", "Write")
        return [
            AclRow("topic", topics.raw, "literal", rw,
                   "topics create; replay, explain, tail; incidents ack/resolve write to it"),
            AclRow("topic", topics.normalized, "literal", ("Create", "Read"),
                   "topics create; tail, explain"),
            AclRow("topic", topics.dead_letter, "literal", rw, "topics create; tail, dlq redrive"),
            AclRow("topic", topics.integrations, "literal", rw, "integrations enable/revoke/list"),
            AclRow("topic", topics.routes, "literal", rw, "routes; replay, explain read them"),
            AclRow("topic", topics.maintenance, "literal", rw,
                   "maintenance start/list/end; replay, explain read them"),
            AclRow("topic", internal.repartition, "literal", ("Create", "Write"),
                   "topics create; dlq redrive writes to it"),
            AclRow("topic", internal.changelog, "literal", ("Create", "Read"),
                   "topics create; incidents list/show"),
            AclRow("group", worker_group, "literal", ("Describe",),
                   "the console's Health page: the worker group's lag"),
        ]  # fmt: skip
    raise ValueError(f"unknown component {component!r} ({', '.join(COMPONENTS)})")


def component_acls(component: str, topics: TopicSettings, worker_group: str) -> list[Acl]:
    """``component_rows`` as one rule per operation, sorted."""
    return sorted(
        Acl(row.resource, row.name, row.pattern, operation)
        for row in component_rows(component, topics, worker_group)
        for operation in row.operations
    )


RESOURCE_OPTION = {"topic": "--topic", "group": "--group", "transactional-id": "--transactional-id"}


def kafka_acls_command(principal: str, row: AclRow, bootstrap: str, admin_config: str) -> str:
    """The ``kafka-acls`` command (Kafka's bin/kafka-acls.sh) that adds ``row`` for
    ``principal`` (``User:<name>``), as a shell line."""
    args = ["kafka-acls.sh", "--bootstrap-server", bootstrap, "--command-config", admin_config,
            "--add", "--allow-principal", principal]  # fmt: skip
    for operation in row.operations:
        args += ["--operation", operation]
    args += [RESOURCE_OPTION[row.resource], row.name]
    if row.pattern != "literal":
        args += ["--resource-pattern-type", row.pattern]
    return shlex.join(args)


def markdown_table(rows_by_component: Iterable[tuple[str, list[AclRow]]]) -> str:
    """The table of docs/operations.md (a test checks the doc against this)."""
    lines = [
        "| component | resource | pattern | name | operations | why |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for component, rows in rows_by_component:
        for row in rows:
            lines.append(
                f"| {component} | {row.resource} | {row.pattern} | `{row.name}` | "
                f"{', '.join(row.operations)} | {row.why} |"
            )
    return "\n".join(lines) + "\n"
