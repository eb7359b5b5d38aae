"""Which Kafka to use, decided in one place for ``make run`` and the tests.

Order: ``KAFKA_BOOTSTRAP_SERVERS`` (an existing cluster); else, for tests only, testcontainers'
Kafka when a Docker daemon answers; else the local broker from Maven-resolved jars.
"""

from __future__ import annotations

import enum
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Purpose = Literal["run", "tests"]


class BrokerKind(enum.Enum):
    EXTERNAL = "external"
    TESTCONTAINERS = "testcontainers"
    LOCAL = "local"


@dataclass(frozen=True)
class BrokerChoice:
    kind: BrokerKind
    reason: str
    bootstrap_servers: str | None = None


def choose_broker(
    env: Mapping[str, str], purpose: Purpose, docker_answers: Callable[[], bool]
) -> BrokerChoice:
    """Pure decision; ``docker_answers`` is only called when it matters (tests, no env var)."""
    bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if bootstrap:
        return BrokerChoice(BrokerKind.EXTERNAL, "KAFKA_BOOTSTRAP_SERVERS is set", bootstrap)
    if purpose == "tests" and docker_answers():
        return BrokerChoice(BrokerKind.TESTCONTAINERS, "a Docker daemon answers")
    why = "no Docker daemon answers" if purpose == "tests" else "no KAFKA_BOOTSTRAP_SERVERS"
    return BrokerChoice(BrokerKind.LOCAL, f"{why}: local broker from Maven-resolved jars")


def docker_daemon_answers(env: Mapping[str, str] | None = None, timeout: float = 2.0) -> bool:
    """True when a Docker daemon answers ``GET /_ping`` on DOCKER_HOST or the default socket.

    A plain socket probe rather than the Docker SDK: it is all we need, and the SDK leaves its
    socket open when no daemon answers.
    """
    host = (os.environ if env is None else env).get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        if host.startswith("unix://"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address: str | tuple[str, int] = host.removeprefix("unix://")
        elif host.startswith("tcp://"):
            hostname, _, port = host.removeprefix("tcp://").rstrip("/").rpartition(":")
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            address = (hostname, int(port))
        else:
            return False
        with sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(1024)
    except (OSError, ValueError):
        return False
    return reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n", 1)[0]
