"""The pipeline's real processes for the fault scenarios (``alertpipe.harness``): an ingress
and a worker, each logging to a file that the scenarios search afterwards, as context
managers that stop them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alertpipe.harness import Proc, spawn, wait_http_ready, wait_worker_ready
from alertpipe.ports import free_port


@contextmanager
def running_worker(env: dict[str, str], log: Path, name: str = "worker") -> Iterator[Proc]:
    proc = spawn(name, ["worker"], env, log)
    try:
        wait_worker_ready(proc, timeout=180)
        yield proc
    finally:
        proc.stop()


@contextmanager
def running_ingress(env: dict[str, str], log: Path, timeout: float = 90) -> Iterator[Proc]:
    """A real ingress on a free loopback port, ready (keys loaded, producer connected)."""
    port = free_port()
    proc = spawn("ingress", ["ingress", "--port", str(port)], env, log, port)
    try:
        wait_http_ready(proc, f"{proc.base_url}/readyz", timeout)
        yield proc
    finally:
        proc.stop()
