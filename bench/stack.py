"""What the benches start: a broker (or KAFKA_BOOTSTRAP_SERVERS), fresh topics, integration
keys, and `alertpipe ingress` / `alertpipe worker` subprocesses on loopback, each logging to a
file that a failure message quotes. Failures raise ``BenchError`` with what went wrong."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from alertpipe.children import stop_child
from alertpipe.jobs.integrations import enable
from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.jars import CACHE_DIR
from alertpipe.ports import free_port
from kafkaio.settings import TopicSettings, kafka_env, prefixed_topics
from kafkaio.topics import ensure_topics, topic_specs
from schemas.errors import AlertpipeError
from schemas.registry import load_sources

CLI = [sys.executable, "-m", "alertpipe.cli"]
NOOP_APP = [sys.executable, "-m", "bench.noop_app"]
# What the worker logs (JSON lines, ingest.logs) once it holds partitions, has restored its
# state and loaded the routes.
WORKER_READY = '"msg":"worker ready"'
GUARANTEES = ("exactly-once", "at-least-once")  # the default first
ORG = "bench"
# The ingress limits each key to 1,000 requests/s by default; the benches offer more on purpose.
UNLIMITED = {"ALERTPIPE_RATE_LIMIT_PER_S": "1000000", "ALERTPIPE_RATE_LIMIT_BURST": "1000000"}


class BenchError(AlertpipeError, RuntimeError):
    """A bench could not run (a process did not start, a drain did not finish, ...)."""


@contextmanager
def kafka() -> Iterator[str]:
    """KAFKA_BOOTSTRAP_SERVERS, or a broker of our own (fresh state dir, stopped afterwards)."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    state = CACHE_DIR / f"bench-broker-{uuid.uuid4().hex[:6]}"
    broker = LocalBroker(state, heap="1g", echo=lambda line: print(line, file=sys.stderr))
    try:
        status = broker.start(timeout=120)
    except Exception as exc:
        raise BenchError(f"the local Kafka broker did not start: {exc}") from exc
    try:
        if not status.bootstrap_servers:
            raise BenchError(f"the local broker gave no address (log: {status.log_file})")
        yield status.bootstrap_servers
    finally:
        broker.stop()
        shutil.rmtree(state, ignore_errors=True)


def fresh_topics(bootstrap: str, partitions: int) -> TopicSettings:
    topics = prefixed_topics(f"bench.{uuid.uuid4().hex[:8]}", partitions=partitions)
    asyncio.run(ensure_topics(bootstrap, topic_specs(topics)))
    return topics


def service_urls(bootstrap: str, topics: TopicSettings, sources: list[str]) -> dict[str, str]:
    """One integration key per source; URL templates with ``{port}`` and routing key ``bench``."""
    known = load_sources()
    urls = {}
    for source in sources:
        enabled = asyncio.run(
            enable(bootstrap, topics.integrations, known, source, ORG, "http://127.0.0.1:{port}")
        )
        urls[source] = enabled.url.replace("$routing_key", "bench")
    return urls


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise BenchError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")

    def rss_mib(self) -> float:
        """Resident memory now (Linux /proc), MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self, grace: float = 30.0) -> None:
        stop_child(self.popen, grace)


def log_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="alertpipe-bench-"))


def spawn(
    name: str,
    args: list[str],
    env: dict[str, str],
    logs: Path,
    port: int = 0,
    command: list[str] = CLI,
) -> Proc:
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen([*command, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    return Proc(name, popen, log, port)


def wait_http_ready(proc: Proc, url: str, timeout: float = 60) -> None:
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
    raise BenchError(f"{proc.name} was not ready within {timeout:.0f}s:\n{proc.tail()}")


def start_ingress(
    name: str, bootstrap: str, topics: TopicSettings, logs: Path, null_sink: bool = False
) -> Proc:
    port = free_port()
    env = {**os.environ, **kafka_env(bootstrap, topics), **UNLIMITED}
    args = ["ingress", "--port", str(port), *(["--null-sink"] if null_sink else [])]
    proc = spawn(name, args, env, logs, port)
    wait_http_ready(proc, f"http://127.0.0.1:{port}/readyz")
    return proc


def worker_env(
    bootstrap: str,
    topics: TopicSettings,
    data_dir: Path,
    metrics_port: int = 0,
    guarantee: str = GUARANTEES[0],
) -> dict[str, str]:
    """A worker's (or the no-work app's) environment: a fresh group, its own data dir."""
    return {
        **os.environ,
        **kafka_env(bootstrap, topics),
        "ALERTPIPE_WORKER_GROUP": f"bench-{uuid.uuid4().hex[:8]}",
        "ALERTPIPE_WORKER_METRICS_PORT": str(metrics_port),
        "ALERTPIPE_WORKER_DATA_DIR": str(data_dir),
        "ALERTPIPE_PROCESSING_GUARANTEE": guarantee,
    }


def start_worker(name: str, env: dict[str, str], logs: Path) -> Proc:
    """Started, not waited for: callers wait for what they measure (outputs, recovery)."""
    return spawn(name, ["worker", "--loglevel", "info"], env, logs)


def start_noop_app(name: str, env: dict[str, str], logs: Path, *args: str) -> Proc:
    """bench.noop_app with a worker's environment (same settings, same kind of group)."""
    return spawn(name, list(args), env, logs, command=NOOP_APP)


def log_time(proc: Proc, needle: str) -> float | None:
    """The ``ts`` (wall clock, s) of the first JSON log line of ``proc`` containing ``needle``."""
    for line in proc.tail(10**9).splitlines():
        if needle in line:
            try:
                return float(json.loads(line)["ts"])
            except (ValueError, KeyError, TypeError):
                continue
    return None


def wait_for_log(proc: Proc, *needles: str, timeout: float = 120) -> float:
    """time.monotonic() when all ``needles`` are in the process's log (polled every 50 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = proc.tail(10**9)
        if all(n in text for n in needles):
            return time.monotonic()
        proc.check_alive()
        time.sleep(0.05)
    raise BenchError(f"{proc.name}: no {needles} in its log within {timeout:.0f}s:\n{proc.tail()}")


def machine() -> dict[str, object]:
    """Cores, memory and the load average now (Linux)."""
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "loadavg": list(os.getloadavg()),
        "python": sys.version.split()[0],
    }
