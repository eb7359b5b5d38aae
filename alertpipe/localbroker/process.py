"""A local broker's process and its state file: is this pid our broker, stop it, and what
``broker.json`` records. Shared by the single broker (``localkafka``) and the three-broker
cluster (``localcluster``), which is several such brokers."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from alertpipe.localbroker.jars import LocalKafkaError


@dataclass(frozen=True)
class BrokerState:
    """What ``broker.json`` records. ``pid`` is None once the broker was stopped; the ports are
    kept so a restart reuses them and clients configured with the old address reconnect."""

    pid: int | None
    broker_port: int
    controller_port: int
    started_at: float | None = None
    security: str = "plaintext"  # or "sasl_ssl", "ssl": the client listener (see LocalBroker)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    def stopped(self) -> BrokerState:
        return BrokerState(None, self.broker_port, self.controller_port, security=self.security)


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    bootstrap_servers: str | None
    pid: int | None
    state_dir: str
    log_file: str
    security: str = "plaintext"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def read_state(path: Path) -> BrokerState | None:
    """The state file, or None when it is missing or unreadable (treated as never started)."""
    try:
        raw = json.loads(path.read_text())
        return BrokerState(
            pid=raw.get("pid"),
            broker_port=int(raw["broker_port"]),
            controller_port=int(raw["controller_port"]),
            started_at=raw.get("started_at"),
            security=str(raw.get("security", "plaintext")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(path: Path, state: BrokerState) -> None:
    """Atomically (write, then rename): a reader never sees half a file."""
    data = {**asdict(state), "bootstrap_servers": state.bootstrap_servers}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def reap(pid: int) -> bool:
    """True when ``pid`` is our own child and has exited (reaping it on the way)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == pid


def is_our_broker(pid: int, properties: Path) -> bool:
    """Alive, not a zombie, and really the broker of this state dir (pids get reused)."""
    if reap(pid):
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.exists():  # not Linux: trust kill(0)
        return True
    try:
        if proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
        cmdline = proc.joinpath("cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"kafka.Kafka" in cmdline and str(properties).encode() in cmdline


def kill_broker(
    pid: int, alive: Callable[[int], bool], *, grace: float, first: signal.Signals = signal.SIGTERM
) -> None:
    """Signal the broker's process group with ``first``, then SIGKILL after ``grace`` seconds;
    return once ``alive(pid)`` is false. The broker runs in its own session (see spawn)."""
    steps = (
        [(first, grace)] if first == signal.SIGKILL else [(first, grace), (signal.SIGKILL, 10.0)]
    )
    for sig, wait in steps:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.05)
    raise LocalKafkaError(f"the Kafka broker (pid {pid}) did not exit after SIGKILL")
