"""The pipeline's real processes as the tests and the benchmarks start them: `alertpipe ingress`
and `alertpipe worker` on isolated topics, each logging to its own file, waited for until they
answer, stopped with SIGTERM then SIGKILL. One harness, so a test and a benchmark run the same
processes the same way."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from alertpipe.children import stop_child
from kafkaio.clients import KafkaTarget
from kafkaio.settings import TopicSettings, kafka_env, prefixed_topics
from kafkaio.topics import ensure_topics, topic_specs
from schemas.errors import AlertpipeError

CLI = [sys.executable, "-m", "alertpipe.cli"]
WORKER_READY = '"msg":"worker ready"'  # the worker's JSON log line once it may process


class HarnessError(AlertpipeError):
    """A process of the harness exited, or did not become ready in time."""


async def fresh_topics(
    bootstrap: KafkaTarget, partitions: int = 3, prefix: str = "t"
) -> TopicSettings:
    """Every topic alertpipe uses, created under a new ``<prefix>.<random>.`` name."""
    topics = prefixed_topics(f"{prefix}.{uuid.uuid4().hex[:8]}", partitions=partitions)
    await ensure_topics(bootstrap, topic_specs(topics))
    return topics


def pipeline_env(bootstrap: KafkaTarget, topics: TopicSettings, **extra: str) -> dict[str, str]:
    """This environment with the cluster (and its security settings) and the topic names of
    ``topics`` (an ingress, the CLI), then ``extra``."""
    return {**os.environ, **kafka_env(bootstrap, topics), **extra}


def worker_env(
    bootstrap: KafkaTarget,
    topics: TopicSettings,
    data_dir: Path,
    group_prefix: str = "test",
    **extra: str,
) -> dict[str, str]:
    """A worker's environment: its own consumer group and data dir, no metrics port, the
    topics' replication factor (for the internal topics it creates), then ``extra``."""
    own = {
        "ALERTPIPE_WORKER_GROUP": f"{group_prefix}-{uuid.uuid4().hex[:8]}",
        "ALERTPIPE_WORKER_METRICS_PORT": "0",
        "ALERTPIPE_WORKER_DATA_DIR": str(data_dir),
        "ALERTPIPE_REPLICATION_FACTOR": str(topics.replication_factor),
    }
    return pipeline_env(bootstrap, topics, **{**own, **extra})


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0  # the loopback port it listens on (an ingress), 0: none
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise HarnessError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")

    def text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, chars: int = 3000) -> str:
        return self.text()[-chars:]

    def rss_mib(self) -> float:
        """Resident memory now (Linux /proc), MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self, grace: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; the exit code."""
        return stop_child(self.popen, grace)


def spawn(
    name: str,
    args: list[str],
    env: dict[str, str],
    log: Path,
    port: int = 0,
    command: list[str] = CLI,
) -> Proc:
    """``command args`` (by default the alertpipe CLI) with its output appended to ``log``."""
    with log.open("ab") as out:
        popen = subprocess.Popen([*command, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    return Proc(name, popen, log, port)


def wait_http_ready(proc: Proc, url: str, timeout: float = 60) -> None:
    """Until ``url`` answers 200; HarnessError (the process stopped) if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check_alive()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.stop()
    raise HarnessError(f"{proc.name} was not ready within {timeout:.0f}s:\n{proc.tail()}")


def wait_worker_ready(proc: Proc, timeout: float = 90) -> None:
    """Until the worker has joined its group and loaded its routes (its ready log line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check_alive()
        if WORKER_READY in proc.text():
            return
        time.sleep(0.2)
    raise HarnessError(f"{proc.name} was not ready within {timeout:.0f}s:\n{proc.tail()}")
