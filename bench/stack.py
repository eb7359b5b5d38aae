"""What the benches start: a broker (or KAFKA_BOOTSTRAP_SERVERS), fresh topics, integration
keys, and `alertpipe ingress` / `alertpipe worker` subprocesses on loopback, each logging to a
file that a failure message quotes. Failures raise ``BenchError`` with what went wrong."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alertpipe import harness
from alertpipe.harness import Proc, spawn, wait_http_ready
from alertpipe.jobs.integrations import enable
from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.jars import CACHE_DIR
from alertpipe.ports import free_port
from kafkaio.settings import TopicSettings, kafka_env
from schemas.errors import AlertpipeError
from schemas.registry import load_sources

NOOP_APP = [sys.executable, "-m", "bench.noop_app"]
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
    return asyncio.run(harness.fresh_topics(bootstrap, partitions, prefix="bench"))


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


def log_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="alertpipe-bench-"))


def start_ingress(
    name: str, bootstrap: str, topics: TopicSettings, logs: Path, null_sink: bool = False
) -> Proc:
    port = free_port()
    env = {**os.environ, **kafka_env(bootstrap, topics), **UNLIMITED}
    args = ["ingress", "--port", str(port), *(["--null-sink"] if null_sink else [])]
    proc = spawn(name, args, env, logs / f"{name}.log", port)
    wait_http_ready(proc, f"{proc.base_url}/readyz")
    return proc


def worker_env(
    bootstrap: str, topics: TopicSettings, data_dir: Path, guarantee: str = GUARANTEES[0]
) -> dict[str, str]:
    """A worker's (or the no-work app's) environment: a fresh group, its own data dir."""
    return harness.worker_env(
        bootstrap, topics, data_dir, "bench", ALERTPIPE_PROCESSING_GUARANTEE=guarantee
    )


def start_worker(name: str, env: dict[str, str], logs: Path) -> Proc:
    """Started, not waited for: callers wait for what they measure (outputs, recovery)."""
    return spawn(name, ["worker", "--loglevel", "info"], env, logs / f"{name}.log")


def start_noop_app(name: str, env: dict[str, str], logs: Path, *args: str) -> Proc:
    """bench.noop_app with a worker's environment (same settings, same kind of group)."""
    return spawn(name, list(args), env, logs / f"{name}.log", command=NOOP_APP)


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
