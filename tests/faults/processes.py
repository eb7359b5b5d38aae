"""The pipeline's real processes for the fault scenarios: `alertpipe ingress` (uvicorn) and
`alertpipe worker` (faust), each logging to a file that the scenarios search afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from alertpipe.children import stop_child
from alertpipe.ports import free_port
from kafkaio.settings import TopicSettings, kafka_env
from tests.processors.test_worker_e2e import pipeline_env, wait_until_ready

CLI = [sys.executable, "-m", "alertpipe.cli"]


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def rss_mb(self) -> float:
        """Resident memory now (Linux /proc), in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Ingress(Proc):
    base_url: str = ""


def stop(proc: Proc, grace: float = 30.0) -> int | None:
    return stop_child(proc.popen, grace)


def worker_env(
    bootstrap: str, topics: TopicSettings, data_dir: Path, **extra: str
) -> dict[str, str]:
    """The worker's environment: the test's topics, own group and data dir, no metrics port
    unless asked (ALERTPIPE_WORKER_METRICS_PORT=...), topics' replication factor passed on."""
    env = pipeline_env(bootstrap, topics, data_dir)
    env["ALERTPIPE_REPLICATION_FACTOR"] = str(topics.replication_factor)
    return {**env, **extra}


@contextmanager
def running_worker(env: dict[str, str], log: Path, name: str = "worker") -> Iterator[Proc]:
    with log.open("ab") as out:
        popen = subprocess.Popen([*CLI, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
    proc = Proc(name, popen, log)
    try:
        wait_until_ready(popen, log, timeout=180)
        yield proc
    finally:
        stop(proc)


@contextmanager
def running_ingress(env: dict[str, str], log: Path, timeout: float = 90) -> Iterator[Ingress]:
    """A real ingress on a free loopback port, ready (keys loaded, producer connected)."""
    port = free_port()
    with log.open("ab") as out:
        popen = subprocess.Popen(
            [*CLI, "ingress", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    proc = Ingress("ingress", popen, log, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + timeout
        while True:
            if popen.poll() is not None:
                pytest.fail(f"the ingress exited ({popen.returncode}):\n{proc.text()[-3000:]}")
            try:
                if httpx.get(f"{proc.base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the ingress was not ready in {timeout:.0f}s:\n{proc.text()[-3000:]}")
            time.sleep(0.2)
        yield proc
    finally:
        stop(proc)


def ingress_env(bootstrap: str, topics: TopicSettings, **extra: str) -> dict[str, str]:
    return {**os.environ, **kafka_env(bootstrap, topics), **extra}
