"""Pure pieces of the local KRaft broker: its properties file, log config and cluster id.

Kept apart from the process handling in ``localkafka`` so they can be tested without a JVM.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BrokerLayout:
    """Where one local broker keeps its files; everything lives under ``state_dir``."""

    state_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def properties(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def log4j_config(self) -> Path:
        return self.state_dir / "log4j2.xml"

    @property
    def log_file(self) -> Path:
        """The broker's own log (log4j2 writes it)."""
        return self.state_dir / "broker.log"

    @property
    def console_file(self) -> Path:
        """JVM stdout/stderr: start-up failures before logging is configured end up here."""
        return self.state_dir / "broker.out"

    @property
    def state_file(self) -> Path:
        """JSON with pid, ports and bootstrap address; read by ``alertpipe`` and the tests."""
        return self.state_dir / "broker.json"

    @property
    def formatted_marker(self) -> Path:
        """Written only after ``StorageTool format`` succeeded: its absence means half-formatted."""
        return self.data_dir / ".alertpipe-formatted"


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (22 chars).

    Kafka itself rejects ids that start with '-' on the command line, so those are redrawn.
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


def quorum_voters(controller_ports: dict[int, int]) -> str:
    """``controller.quorum.voters`` for nodes on loopback: ``1@127.0.0.1:port,2@...``."""
    return ",".join(f"{node}@127.0.0.1:{port}" for node, port in sorted(controller_ports.items()))


def render_server_properties(
    *,
    node_id: int,
    broker_port: int,
    controller_port: int,
    data_dir: Path,
    voters: str | None = None,
    replication: int = 1,
) -> str:
    """A combined broker+controller KRaft config bound to 127.0.0.1 only.

    ``voters`` names every controller of the cluster (default: this node alone). Internal
    topics get replication factor ``replication``; with more than one copy, every topic
    defaults to ``min.insync.replicas`` = replication - 1, so acks=all survives one broker
    down and refuses writes with fewer in sync. Topics are never auto-created, so a mistyped
    topic name fails loudly instead of silently creating an empty topic.
    """
    rf = str(replication)
    min_isr = str(max(1, replication - 1))
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters or f"{node_id}@127.0.0.1:{controller_port}",
        "listeners": (
            f"PLAINTEXT://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}"
        ),
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "auto.create.topics.enable": "false",
        "default.replication.factor": rf,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": rf,
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": rf,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": rf,
        "share.coordinator.state.topic.min.isr": min_isr,
        # Tests create fresh consumer groups constantly; do not wait 3 s for each to settle.
        "group.initial.rebalance.delay.ms": "0",
        "log.segment.bytes": str(64 * 1024 * 1024),
    }
    body = "".join(f"{key}={value}\n" for key, value in lines.items())
    return "# Written by `alertpipe kafka start`; regenerated on every start.\n" + body


def render_log4j_config(log_file: Path) -> str:
    """log4j2 XML sending the broker's log to one rolling file (INFO, 3 x 20 MB)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders>
    <RollingFile name="file" fileName="{log_file}" filePattern="{log_file}.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <Policies><SizeBasedTriggeringPolicy size="20 MB"/></Policies>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="warn"/>
    <Logger name="org.apache.kafka.controller" level="info"/>
    <Root level="info"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
"""


def jvm_command(
    *, java: str, classpath: str, main: str, args: list[str], heap: str, log4j_config: Path
) -> list[str]:
    """The java command line for a Kafka main class, with a modest fixed heap."""
    return [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j_config}",
        "-cp",
        classpath,
        main,
        *args,
    ]
