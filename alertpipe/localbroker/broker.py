"""A single-node Apache Kafka (KRaft) broker run from Maven-resolved jars, for dev and tests.

The jars are resolved once with Maven from ``deploy/kafka/pom.xml`` into ``.cache/kafka/libs``
and reused. Each broker keeps everything (config, data, logs, ``broker.json`` with pid and
bootstrap address) in one state directory, so tests can run their own broker beside the
developer's. Start is idempotent; stale pid files and half-formatted data dirs are repaired.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alertpipe.localbroker.config import (
    BrokerLayout,
    SecureListener,
    jvm_command,
    new_cluster_id,
    quorum_voters,
    render_log4j_config,
    render_server_properties,
)
from alertpipe.localbroker.jars import CACHE_DIR, Echo, LocalKafkaError, resolve_jars
from alertpipe.localbroker.process import (
    BrokerState,
    BrokerStatus,
    is_our_broker,
    kill_broker,
    read_state,
    write_state,
)
from alertpipe.localbroker.secured import (
    SASL_USER,
    client_connection,
    client_env,
    format_args,
    marker_text,
    new_password_file,
    resolve_mode,
    secure_listener,
    write_client_env,
)
from alertpipe.ports import free_port, port_is_free
from kafkaio.admin import KafkaUnreachable, wait_until_answers
from kafkaio.clients import KafkaConnection

NODE_ID = 1


@dataclass(frozen=True)
class Membership:
    """How one broker takes part in a cluster: its node id, the controller port of every node
    (its own included), how many copies internal topics keep, and the shared cluster id."""

    node_id: int
    controller_ports: dict[int, int]
    replication: int
    cluster_id: str


def default_state_dir() -> Path:
    return CACHE_DIR / "broker"


class LocalBroker:
    """One local broker identified by its state directory."""

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        heap: str = "512m",
        cache_dir: Path = CACHE_DIR,
        echo: Echo = print,
        security: str | None = None,
        authorizer: bool = False,
    ) -> None:
        self.layout = BrokerLayout((state_dir or default_state_dir()).resolve())
        # None: what the state dir was formatted for (plaintext when new).
        self.requested_security = security
        # Kafka's ACL authorizer (sasl_ssl only): set per start, the ACLs stay in the metadata.
        self.authorizer = authorizer
        self.heap = heap
        self.cache_dir = cache_dir
        self.echo = echo
        # Brokers this object spawned: poll()ed through their Popen, which also reaps them.
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    # -- state ------------------------------------------------------------------------------
    def read_state(self) -> BrokerState | None:
        return read_state(self.layout.state_file)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize start/stop of one state dir across processes."""
        self.layout.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.layout.state_dir / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _alive(self, pid: int) -> bool:
        child = self._children.get(pid)
        if child is not None:
            if child.poll() is None:
                return True
            del self._children[pid]
            return False
        return is_our_broker(pid, self.layout.properties)

    def _live_pid(self, state: BrokerState | None) -> int | None:
        if state is None or state.pid is None:
            return None
        return state.pid if self._alive(state.pid) else None

    def status(self) -> BrokerStatus:
        state = self.read_state()
        pid = self._live_pid(state)
        return BrokerStatus(
            running=pid is not None,
            bootstrap_servers=state.bootstrap_servers if state and pid else None,
            pid=pid,
            state_dir=str(self.layout.state_dir),
            log_file=str(self.layout.log_file),
            security=state.security if state else "plaintext",
        )

    # -- start ------------------------------------------------------------------------------
    def start(self, *, port: int | None = None, timeout: float = 90.0) -> BrokerStatus:
        """Start the broker unless it already runs; return once it answers metadata requests."""
        with self._locked():
            state = self.read_state()
            pid = self._live_pid(state)
            if state is not None and pid is not None:
                if port is not None and port != state.broker_port:
                    raise LocalKafkaError(
                        f"the broker already runs on port {state.broker_port} (pid {pid}); "
                        "stop it first to change the port"
                    )
                self._wait_ready(state, pid, timeout)
                self.echo(f"Kafka already running at {state.bootstrap_servers} (pid {pid}).")
                return self.status()
            broker_port, controller_port = self._choose_ports(state, port)
            started = time.monotonic()
            solo = Membership(NODE_ID, {NODE_ID: controller_port}, 1, new_cluster_id())
            new_state = self._launch(broker_port, solo)
            assert new_state.pid is not None
            self._wait_ready(new_state, new_state.pid, timeout)
            self.echo(
                f"Kafka {self._kafka_version()} ready at {new_state.bootstrap_servers} "
                f"(pid {new_state.pid}, {time.monotonic() - started:.1f}s; "
                f"log: {self.layout.log_file})"
            )
            return self.status()

    def launch(self, broker_port: int, membership: Membership) -> BrokerState:
        """Spawn this broker as one node of a cluster, without waiting for it: a node of a
        multi-node cluster answers only once a quorum of controllers runs. No-op if it runs."""
        with self._locked():
            state = self.read_state()
            if state is not None and self._live_pid(state) is not None:
                return state
            return self._launch(broker_port, membership)

    def _launch(self, broker_port: int, membership: Membership) -> BrokerState:
        state = self.read_state()
        if state is not None and state.pid is not None:
            self.echo(f"Removing stale PID {state.pid} (no broker runs with it).")
            write_state(self.layout.state_file, state.stopped())
        java = shutil.which("java")
        if java is None:
            raise LocalKafkaError(
                "Java 17+ is needed to run the local Kafka broker (or set "
                "KAFKA_BOOTSTRAP_SERVERS to use an existing cluster)."
            )
        libs = resolve_jars(cache_dir=self.cache_dir, echo=self.echo)
        mode = resolve_mode(self.layout, self.requested_security)
        if self.authorizer and mode != "sasl_ssl":
            raise LocalKafkaError("the ACL authorizer needs --security sasl_ssl (principals)")
        secure = secure_listener(self.layout, mode)
        self._write_configs(broker_port, membership, secure)
        self._ensure_formatted(java, libs, membership.cluster_id, mode, format_args(secure))
        proc = self._spawn(java, libs)
        self._children[proc.pid] = proc
        controller_port = membership.controller_ports[membership.node_id]
        new_state = BrokerState(proc.pid, broker_port, controller_port, time.time(), mode)
        if secure is not None:
            write_client_env(
                self.layout, client_env(self.layout, new_state.bootstrap_servers, mode)
            )
        write_state(self.layout.state_file, new_state)
        return new_state

    def _choose_ports(self, state: BrokerState | None, port: int | None) -> tuple[int, int]:
        if port is not None:
            if not port_is_free(port):
                raise LocalKafkaError(f"port {port} on 127.0.0.1 is already in use")
            broker_port = port
        elif state is not None and port_is_free(state.broker_port):
            broker_port = state.broker_port  # same address as before: clients reconnect
        else:
            broker_port = free_port()
        if (
            state is not None
            and state.controller_port != broker_port
            and port_is_free(state.controller_port)
        ):
            controller_port = state.controller_port
        else:
            controller_port = free_port()
            while controller_port == broker_port:
                controller_port = free_port()
        return broker_port, controller_port

    def _write_configs(
        self, broker_port: int, membership: Membership, secure: SecureListener | None
    ) -> None:
        if secure is not None:  # it holds the passwords
            self.layout.properties.touch(mode=0o600)
            self.layout.properties.chmod(0o600)
        self.layout.properties.write_text(
            render_server_properties(
                node_id=membership.node_id,
                broker_port=broker_port,
                controller_port=membership.controller_ports[membership.node_id],
                data_dir=self.layout.data_dir,
                voters=quorum_voters(membership.controller_ports),
                replication=membership.replication,
                secure=secure,
                authorizer=self.authorizer,
            )
        )
        self.layout.log4j_config.write_text(
            render_log4j_config(self.layout.log_file, self.authorizer)
        )

    def _ensure_formatted(
        self, java: str, libs: Path, cluster_id: str, mode: str, extra: list[str]
    ) -> None:
        data, marker = self.layout.data_dir, self.layout.formatted_marker
        if marker.exists():
            return
        if data.exists():
            self.echo(f"Data dir {data} is half-formatted; wiping it and formatting again.")
            shutil.rmtree(data)
        cmd = jvm_command(
            java=java,
            classpath=f"{libs}/*",
            main="kafka.tools.StorageTool",
            args=["format", "-t", cluster_id, "-c", str(self.layout.properties), *extra],
            heap="256m",
            log4j_config=self.layout.log4j_config,
        )
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            raise LocalKafkaError(f"formatting {data} failed:\n{proc.stdout}{proc.stderr}")
        marker.write_text(marker_text(mode))

    def _spawn(self, java: str, libs: Path) -> subprocess.Popen[bytes]:
        cmd = jvm_command(
            java=java,
            classpath=f"{libs}/*",
            main="kafka.Kafka",
            args=[str(self.layout.properties)],
            heap=self.heap,
            log4j_config=self.layout.log4j_config,
        )
        with self.layout.console_file.open("ab") as out:
            # Own session: Ctrl-C in the terminal that started it does not reach the broker,
            # and stop() can signal the whole group.
            return subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
            )

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Return once the running broker answers metadata requests (LocalKafkaError if not)."""
        state = self.read_state()
        pid = self._live_pid(state)
        if state is None or pid is None:
            raise LocalKafkaError(f"no broker runs in {self.layout.state_dir}")
        self._wait_ready(state, pid, timeout)

    def _wait_ready(self, state: BrokerState, pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not self._alive(pid):
                raise LocalKafkaError(
                    f"the Kafka broker exited during start-up. Last lines of its logs:\n"
                    f"{self._log_tail()}"
                )
            try:
                asyncio.run(wait_until_answers(self.client(state), 2.0))
                return
            except KafkaUnreachable:
                if time.monotonic() > deadline:
                    kill_broker(pid, self._alive, grace=5.0)
                    raise LocalKafkaError(
                        f"the Kafka broker did not answer at {state.bootstrap_servers} within "
                        f"{timeout:.0f}s; it was stopped. Last log lines:\n{self._log_tail()}"
                    ) from None

    def client(self, state: BrokerState) -> KafkaConnection:
        """How a client reaches the broker of ``state`` (TLS and SASL in sasl_ssl mode, TLS
        with a client certificate in ssl mode)."""
        return client_connection(self.layout, state.bootstrap_servers, state.security)

    def client_env(self) -> dict[str, str]:
        """The client settings of the running broker, as environment variables."""
        state = self.read_state()
        if state is None:
            raise LocalKafkaError(f"no broker was started in {self.layout.state_dir}")
        return client_env(self.layout, state.bootstrap_servers, state.security)

    def add_user(self, user: str) -> dict[str, str]:
        """Create SCRAM user ``user`` on the running sasl_ssl broker (a new random password,
        kept in the state dir), as the super user; the client settings that log in as it."""
        # librdkafka's admin client: loaded only here, not by every command that imports this
        from kafkaio.aclgrant import AclGrantError, upsert_scram_user

        state = self.read_state()
        if state is None or self._live_pid(state) is None or state.security != "sasl_ssl":
            raise LocalKafkaError(f"no sasl_ssl broker runs in {self.layout.state_dir}")
        if user == SASL_USER:
            raise LocalKafkaError(f"{user} is the broker's own user")
        _, password = new_password_file(self.layout, user)
        try:
            upsert_scram_user(self.client(state), user, password)
        except AclGrantError as exc:
            raise LocalKafkaError(str(exc)) from exc
        return client_env(self.layout, state.bootstrap_servers, state.security, user)

    def _log_tail(self, lines: int = 20) -> str:
        chunks = []
        for path in (self.layout.console_file, self.layout.log_file):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                chunks.append(f"--- {path}\n" + "\n".join(text))
        return "\n".join(chunks) or "(no log written)"

    def _kafka_version(self) -> str:
        jars = sorted(resolve_jars(cache_dir=self.cache_dir, echo=self.echo).glob("kafka_2.13-*"))
        return jars[0].stem.removeprefix("kafka_2.13-") if jars else "?"

    # -- stop -------------------------------------------------------------------------------
    def stop(self, *, timeout: float = 30.0, first: signal.Signals = signal.SIGTERM) -> bool:
        """Stop the broker (``first``, SIGTERM by default, then SIGKILL after ``timeout``);
        False if none ran. SIGKILL first is a crash, for the fault tests."""
        with self._locked():
            state = self.read_state()
            pid = self._live_pid(state)
            if state is None or pid is None:
                if state is not None and state.pid is not None:
                    write_state(self.layout.state_file, state.stopped())
                self.echo("Kafka is not running.")
                return False
            kill_broker(pid, self._alive, grace=timeout, first=first)
            write_state(self.layout.state_file, state.stopped())
            self.echo(f"Kafka stopped (pid {pid}).")
            return True
