"""Least privilege on a broker with Kafka's ACL authorizer (``alertpipe kafka start --acls``:
whatever no ACL allows is denied). Each component logs in as its own SCRAM user (``alertpipe
kafka user``) with exactly the ACLs of ``kafkaio.acls`` (``alertpipe kafka acls --apply``): the
operator creates the topics, a route and a key; a real ingress takes two webhooks; a real
exactly-once worker turns them into an alert and a dead letter; the operator reads them back,
resolves, redrives and replays. The broker denied none of them anything, and each ACL allowed
something (but those named in NOT_EXERCISED). The ingress's user can neither write the
delivery topic nor read the raw one."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.errors import TopicAuthorizationFailedError

from alertpipe.harness import CLI
from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.jars import LocalKafkaError
from kafkaio.acls import COMPONENTS, Acl, component_acls
from kafkaio.clients import KafkaConnection, new_consumer, new_producer
from kafkaio.env import Env
from kafkaio.security import load_security
from kafkaio.settings import TopicSettings, kafka_env, prefixed_topics
from kafkaio.topics import ensure_topics, topic_specs
from kafkaio.worker_topics import internal_topics
from tests.faults.processes import running_ingress, running_worker

pytestmark = pytest.mark.kafka

FIXTURES = Path(__file__).parents[1] / "fixtures"
ORG = "acl-org"
# How Kafka's authorizer logs each decision (kafka.authorizer.logger; allowed ones at DEBUG).
DECISION = re.compile(
    r"Principal = User:(?P<user>\S+) is (?P<result>Allowed|Denied) operation = (?P<op>\w+) "
    r"from host = \S+ on resource = (?P<type>\w+):\w+:(?P<name>.+?) for request = (?P<req>\w+)"
)
KAFKA_TYPE = {"topic": "Topic", "group": "Group", "transactional-id": "TransactionalId"}


@dataclass(frozen=True)
class Decision:
    user: str
    allowed: bool
    operation: str  # as the log spells it: READ, DESCRIBE_CONFIGS...
    resource: str  # Topic, Group, TransactionalId, Cluster
    name: str
    request: str  # the API: Produce, Fetch, Metadata...


def decisions(log: str) -> list[Decision]:
    found = []
    for m in DECISION.finditer(log):
        allowed = m["result"] == "Allowed"
        found.append(Decision(m["user"], allowed, m["op"], m["type"], m["name"], m["req"]))
    return found


def covers(acl: Acl, decision: Decision) -> bool:
    """``decision`` was allowed by ``acl`` itself (not by an operation that implies it)."""
    operation = re.sub(r"(?<!^)(?=[A-Z])", "_", acl.operation).upper()  # DescribeConfigs
    if acl.pattern == "literal":
        name_matches = decision.name == acl.name
    else:
        name_matches = decision.name.startswith(acl.name)
    return (
        decision.allowed
        and decision.operation == operation
        and decision.resource == KAFKA_TYPE[acl.resource]
        and name_matches
    )


@dataclass(frozen=True)
class Granted:
    """A broker with the authorizer, one user per component holding exactly its ACLs for
    ``topics`` and worker group ``group`` (the topics not created yet)."""

    broker: LocalBroker
    admin: KafkaConnection  # the super user
    topics: TopicSettings
    group: str
    users: dict[str, KafkaConnection]  # component -> how it logs in

    def env(self, component: str, **extra: str) -> dict[str, str]:
        """A child process's environment: this component's user, these topics and group."""
        base = subprocess_env()
        return {
            **base,
            **kafka_env(self.users[component], self.topics),
            "ALERTPIPE_WORKER_GROUP": self.group,
            "ALERTPIPE_TOPIC_PARTITIONS": "1",
            **extra,
        }

    def decisions(self) -> list[Decision]:
        return decisions(self.broker.layout.log_file.read_text(errors="replace"))

    def unused(self, component: str) -> list[Acl]:
        """The component's ACLs that allowed nothing so far."""
        mine = [d for d in self.decisions() if d.user == component]
        granted = component_acls(component, self.topics, self.group)
        return [acl for acl in granted if not any(covers(acl, d) for d in mine)]


def subprocess_env() -> dict[str, str]:
    """This environment without Kafka or alertpipe settings (a developer's own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "ALERTPIPE_"))}


@pytest.fixture(scope="module")
def granted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Granted]:
    broker = LocalBroker(
        tmp_path_factory.mktemp("kafka-acl"), heap="384m", echo=lambda _: None,
        security="sasl_ssl", authorizer=True,
    )  # fmt: skip
    try:
        status = broker.start()
    except LocalKafkaError as exc:
        pytest.fail(f"could not start the broker with the authorizer: {exc}", False)
    assert status.bootstrap_servers is not None
    try:
        state = broker.read_state()
        assert state is not None
        admin = broker.client(state)  # the super user
        topics = prefixed_topics(f"acl.{uuid.uuid4().hex[:8]}", partitions=1)
        group = f"acl-worker-{uuid.uuid4().hex[:8]}"
        state_dir = str(broker.layout.state_dir)
        printed = cli_all(
            [["kafka", "user", c, "--state-dir", state_dir] for c in COMPONENTS], subprocess_env()
        )
        users = {}
        for component, lines in zip(COMPONENTS, printed, strict=True):
            env = dict(line.split("=", 1) for line in lines.splitlines())
            assert env["KAFKA_SASL_USERNAME"] == component
            users[component] = KafkaConnection(
                env["KAFKA_BOOTSTRAP_SERVERS"], load_security(Env(env))
            )
        out = Granted(broker, admin, topics, group, users)
        # As an operator would: User:<component> gets its ACLs, granted by the super user.
        applied = cli(["kafka", "acls", "--apply"], {**out.env("operator"), **admin.env()})
        assert applied.returncode == 0, applied.stdout + applied.stderr
        yield out
    finally:
        broker.stop()


def cli(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def cli_all(commands: list[list[str]], env: dict[str, str]) -> list[str]:
    """Independent commands at once (each CLI start costs a second or two); their outputs."""
    running = [
        subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for args in commands
    ]
    outputs = []
    for args, proc in zip(commands, running, strict=True):
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{args}: {out.decode()}{err.decode()}"
        outputs.append(out.decode())
    return outputs


def wait_lines(kind: str, count: int, env: dict[str, str]) -> list[dict[str, Any]]:
    """``alertpipe tail KIND`` (as the operator) until it prints ``count`` records."""
    deadline = time.monotonic() + 60
    while True:
        tail = cli(["tail", kind, "--from-beginning", "--json"], env)
        assert tail.returncode == 0, tail.stderr
        lines = tail.stdout.strip().splitlines()
        if len(lines) >= count:
            return [json.loads(line) for line in lines]
        assert time.monotonic() < deadline, f"{len(lines)} of {count} {kind} records in 60s"
        time.sleep(0.5)


# What the test's flows may leave unused of the ACLs, and why each is still needed.
NOT_EXERCISED: dict[str, set[tuple[str, str]]] = {
    "ingress": set(),
    "worker": {
        ("repartition", "Create"),  # creates its internal topics when `topics create` did not
        ("changelog", "Create"),
        ("changelog", "Read"),  # restores the incident states after a restart or rebalance
    },
    "operator": {
        ("repartition", "Write"),  # dlq redrive of a dead letter that now passes
        ("group", "Describe"),  # the console's Health page reads the worker group's lag
    },
}


def short(granted: Granted, acls: list[Acl]) -> set[tuple[str, str]]:
    internal = internal_topics(granted.group, granted.topics.raw)
    names = {
        internal.repartition: "repartition",
        internal.changelog: "changelog",
        granted.group: "group",
    }
    return {(names.get(acl.name, acl.name), acl.operation) for acl in acls}


def test_each_component_works_with_exactly_its_acls(granted: Granted, tmp_path: Path) -> None:
    operator = granted.env("operator")
    created = cli(["topics", "create"], operator)
    assert created.returncode == 0, created.stdout + created.stderr
    _, enabled = cli_all(
        [
            ["routes", "set", ORG, "ops", "--team", "sre"],
            ["integrations", "enable", "generic", "--org", ORG, "--json"],
        ],
        operator,
    )
    key = json.loads(enabled)["key"]
    worker_env = granted.env(
        "worker",
        ALERTPIPE_WORKER_METRICS_PORT="0",
        ALERTPIPE_WORKER_DATA_DIR=str(tmp_path / "data"),
    )
    body = json.loads((FIXTURES / "generic" / "critical.json").read_bytes())
    with (
        running_worker(worker_env, tmp_path / "worker.log"),
        running_ingress(granted.env("ingress"), tmp_path / "ingress.log") as ingress,
    ):
        url = f"{ingress.base_url}/integrations/generic/20131114/alert/{key}/ops"
        # An alert, and a dead letter: VictorOps answers 400, the body is still recorded.
        for sent, status in ((body, 200), ({**body, "message_type": 5}, 400)):
            answer = httpx.post(url, json=sent)
            assert answer.status_code == status, answer.text
        [alert] = [r["alert"] for r in wait_lines("normalized", 1, operator)]
        assert (alert["org"], alert["entity_id"]) == (ORG, body["entity_id"])
        wait_lines("dead-letter", 1, operator)
        held, *_ = cli_all(
            [
                ["incidents", "list", "--json"],
                ["incidents", "resolve", ORG, body["entity_id"], "-m", "acl test", "--yes"],
                ["dlq", "redrive", "--yes"],  # fails again: back to the dead-letter topic
                ["integrations", "list"],
                ["replay", "--since", "1h", "--quiet"],  # a dry run: reads raw and the routes
                ["maintenance", "start", "--org", ORG, "--for", "1h", "--reason", "acl test"],
                ["maintenance", "list"],
            ],
            operator,
        )
        assert json.loads(held.splitlines()[0])["entity_id"] == body["entity_id"]
    assert [d for d in granted.decisions() if not d.allowed] == []
    # Every ACL allowed something, but those this run cannot reach (a loop restart on a slow
    # machine may reach the changelog's Read too: a subset, not equality).
    for component in COMPONENTS:
        assert short(granted, granted.unused(component)) <= NOT_EXERCISED[component], component


def test_the_ingress_cannot_write_the_delivery_topic_nor_read_raw(granted: Granted) -> None:
    ingress, topics = granted.users["ingress"], granted.topics
    asyncio.run(ensure_topics(granted.admin, topic_specs(topics, granted.group)))

    async def write_normalized() -> None:
        producer = new_producer(ingress, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(topics.normalized, b"forged")
        finally:
            await producer.stop()

    async def read_raw() -> None:
        consumer = new_consumer(ingress, enable_auto_commit=False, group_id=None)
        await consumer.start()
        try:
            tp = TopicPartition(topics.raw, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            async with asyncio.timeout(20):
                await consumer.getmany(timeout_ms=5000)
        finally:
            await consumer.stop()

    with pytest.raises(TopicAuthorizationFailedError) as wrote:
        asyncio.run(write_normalized())
    print(repr(wrote.value))
    with pytest.raises(TopicAuthorizationFailedError) as read:
        asyncio.run(read_raw())
    print(repr(read.value))
    denied = {(d.operation, d.name, d.request) for d in granted.decisions() if not d.allowed}
    assert (topics.normalized and ("DESCRIBE", topics.normalized, "Metadata")) in denied
    assert ("READ", topics.raw, "Fetch") in denied
