"""Stopping a child process started with ``subprocess.Popen`` (the benchmarks' and the tests'
ingress and worker processes)."""

from __future__ import annotations

import subprocess
from typing import Any


def stop_child(popen: subprocess.Popen[Any], grace: float = 30.0) -> int | None:
    """SIGTERM, then SIGKILL if it has not exited after ``grace`` seconds; its exit status."""
    if popen.poll() is None:
        popen.terminate()
        try:
            popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(timeout=30)
    return popen.returncode
