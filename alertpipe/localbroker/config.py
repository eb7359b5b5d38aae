"""Pure pieces of the local KRaft broker: its properties file, log config and cluster id.

Kept apart from the process handling in ``localkafka`` so they can be tested without a JVM.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
CLIENT_MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class SaslSslListener:
    """The client listener of ``--security sasl_ssl``: TLS with this keystore, SASL SCRAM (and
    PLAIN) for one user, whose SCRAM credentials are written at format time."""

    protocol: ClassVar[str] = "SASL_SSL"
    keystore: Path  # PKCS#12
    store_password: str
    ca_pem: Path  # the broker trusts it when it connects to itself (transaction markers)
    username: str
    password: str


@dataclass(frozen=True)
class MutualTlsListener:
    """The client listener of ``--security ssl``: TLS with this keystore, and every client
    (the broker itself too, with its own certificate) must present a certificate the CA
    signed; no SASL."""

    protocol: ClassVar[str] = "SSL"
    keystore: Path  # PKCS#12
    store_password: str
    ca_pem: Path  # the truststore: the CA that signed the clients' certificates


SecureListener = SaslSslListener | MutualTlsListener


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
    def tls_dir(self) -> Path:
        """CA, broker keystore (``--security sasl_ssl`` and ``ssl``), client certificate and
        key (``ssl``)."""
        return self.state_dir / "tls"

    @property
    def sasl_password_file(self) -> Path:
        """The SASL user's password (mode 0600): clients read it as KAFKA_SASL_PASSWORD_FILE."""
        return self.state_dir / "sasl-password"

    @property
    def client_env_file(self) -> Path:
        """The client settings of a secured broker, as KEY=value lines."""
        return self.state_dir / "client.env"

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
    secure: SecureListener | None = None,
    authorizer: bool = False,
) -> str:
    """A combined broker+controller KRaft config bound to 127.0.0.1 only.

    ``voters`` names every controller of the cluster (default: this node alone). Internal
    topics get replication factor ``replication``; with more than one copy, every topic
    defaults to ``min.insync.replicas`` = replication - 1, so acks=all survives one broker
    down and refuses writes with fewer in sync. Topics are never auto-created, so a mistyped
    topic name fails loudly instead of silently creating an empty topic. With ``secure``, the
    client listener (which the broker also uses to reach itself) is SASL_SSL, or SSL with
    client certificates required, instead of PLAINTEXT; the controller listener stays
    PLAINTEXT on loopback. With ``authorizer`` (needs a SASL_SSL listener), Kafka's KRaft ACL
    authorizer: only what an ACL allows, see ``authorizer_properties``.
    """
    client = secure.protocol if secure else "PLAINTEXT"
    rf = str(replication)
    min_isr = str(max(1, replication - 1))
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters or f"{node_id}@127.0.0.1:{controller_port}",
        "listeners": (
            f"{client}://127.0.0.1:{broker_port},CONTROLLER://127.0.0.1:{controller_port}"
        ),
        "advertised.listeners": f"{client}://127.0.0.1:{broker_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": client,
        "listener.security.protocol.map": f"{client}:{client},CONTROLLER:PLAINTEXT",
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
        # A dead worker's open transaction holds back read_committed readers until it is
        # aborted: after its transaction timeout, at the coordinator's next scan (10 s by
        # default, which doubles the wait). docs/operations.md asks the same of clusters.
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "1000",
        "log.segment.bytes": str(64 * 1024 * 1024),
    }
    if isinstance(secure, MutualTlsListener):
        lines.update(tls_properties(secure.keystore, secure.store_password, secure.ca_pem))
        lines["ssl.client.auth"] = "required"
    if isinstance(secure, SaslSslListener):
        lines.update(sasl_ssl_properties(secure))
        if authorizer:
            lines.update(authorizer_properties(secure.username))
    elif authorizer:
        raise ValueError("the authorizer needs the SASL_SSL listener (principals to authorize)")
    body = "".join(f"{key}={value}\n" for key, value in lines.items())
    return "# Written by `alertpipe kafka start`; regenerated on every start.\n" + body


def sasl_ssl_properties(secure: SaslSslListener) -> dict[str, str]:
    """TLS (PKCS#12 keystore, PEM truststore) and SASL SCRAM-SHA-256/512 and PLAIN for one
    user on the SASL_SSL listener; the broker logs in to itself with SCRAM-SHA-512."""
    user, password = secure.username, secure.password
    scram = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{user}" password="{password}";'
    )
    plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{user}" password="{password}" user_{user}="{password}";'
    )
    props = {
        "sasl.enabled.mechanisms": ",".join((*SCRAM_MECHANISMS, "PLAIN")),
        "sasl.mechanism.inter.broker.protocol": CLIENT_MECHANISM,
        "listener.name.sasl_ssl.plain.sasl.jaas.config": plain,
        **tls_properties(secure.keystore, secure.store_password, secure.ca_pem),
        "ssl.client.auth": "none",
    }
    for mechanism in SCRAM_MECHANISMS:
        props[f"listener.name.sasl_ssl.{mechanism.lower()}.sasl.jaas.config"] = scram
    return props


def tls_properties(keystore: Path, password: str, ca_pem: Path) -> dict[str, str]:
    """The broker's key and certificate (PKCS#12, key and store under one password) and the CA
    it trusts (PEM) on its TLS client listener."""
    return {
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": str(keystore),
        "ssl.keystore.password": password,
        "ssl.key.password": password,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(ca_pem),
    }


def authorizer_properties(super_user: str) -> dict[str, str]:
    """KRaft's ACL authorizer, denying whatever no ACL allows. Super users: ``super_user`` (the
    broker logs in to itself and the admin client as it) and ANONYMOUS, the broker's principal
    on the PLAINTEXT controller listener (loopback only; the client listener needs SASL, so
    no client is ANONYMOUS)."""
    return {
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{super_user};User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
    }


def scram_format_args(username: str, password: str) -> list[str]:
    """``StorageTool format`` arguments that store the user's SCRAM credentials (KIP-900): in
    KRaft they must exist before the broker first starts, for it to log in to itself."""
    args = []
    for mechanism in SCRAM_MECHANISMS:
        args += ["--add-scram", f"{mechanism}=[name={username},password={password}]"]
    return args


def render_log4j_config(log_file: Path, authorizer: bool = False) -> str:
    """log4j2 XML sending the broker's log to one rolling file (INFO, 3 x 20 MB). With
    ``authorizer``, every decision of the ACL authorizer is logged, allowed ones too (DEBUG
    of ``kafka.authorizer.logger``; denials are INFO): what each principal really used."""
    audit = "debug" if authorizer else "info"
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
    <Logger name="kafka.authorizer.logger" level="{audit}"/>
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
