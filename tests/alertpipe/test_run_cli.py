"""`alertpipe run` (what `make run` calls) brings up a broker and topics from nothing, and
Ctrl-C stops what it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from alertpipe.kafkaprobe import answers
from alertpipe.localkafka import LocalBroker


def test_run_from_nothing_then_ctrl_c(tmp_path: Path) -> None:
    state_dir = tmp_path / "broker"
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    with subprocess.Popen(
        [sys.executable, "-m", "alertpipe.cli", "run", "--kafka-state-dir", str(state_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    ) as proc:  # fmt: skip
        try:
            _drive(proc, state_dir)
        finally:
            if proc.poll() is None:
                proc.kill()
            LocalBroker(state_dir, echo=lambda _: None).stop()


def _drive(proc: subprocess.Popen[str], state_dir: Path) -> None:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C" in line:
            break
    output = "".join(lines)
    assert "Press Ctrl-C" in output, output
    for topic in ("alerts.raw", "alerts.normalized", "alerts.dead-letter"):
        assert f"created {topic}" in output
    status = LocalBroker(state_dir, echo=lambda _: None).status()
    assert status.running
    assert status.bootstrap_servers is not None
    assert answers(status.bootstrap_servers, timeout=5)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    assert not LocalBroker(state_dir, echo=lambda _: None).status().running
