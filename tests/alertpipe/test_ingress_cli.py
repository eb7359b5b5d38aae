"""``alertpipe ingress`` with its port taken: one line and exit 2 before anything connects
(it used to print uvicorn's "address already in use" after the Kafka clients had started)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def test_a_taken_port_is_one_line_before_anything_starts() -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}  # never reached
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "alertpipe.cli", "ingress", "--port", str(busy)],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: port {busy} is in use on 127.0.0.1: stop what listens there, or choose "
        "another with `alertpipe ingress --port N`"
    ]
