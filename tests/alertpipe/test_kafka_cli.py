"""`alertpipe kafka start|stop|status` on a broker of the test's own (a separate state dir)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kafkaio.admin import answers, wait_until_answers

ALERTPIPE = [sys.executable, "-m", "alertpipe.cli"]


def alertpipe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    return subprocess.run(
        [*ALERTPIPE, *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**environ, **(env or {})},
        check=False,
    )


def status(state_dir: Path) -> dict[str, object]:
    result = alertpipe("kafka", "status", "--json", "--state-dir", str(state_dir))
    assert result.returncode == 0, result.stderr
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def pid_runs(pid: int) -> bool:
    """Alive and not a zombie (an exited process waits a moment for its reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def state_dir(tmp_path: Path) -> object:
    yield tmp_path / "broker"
    alertpipe("kafka", "stop", "--state-dir", str(tmp_path / "broker"))  # never leak a JVM


def test_start_twice_is_harmless_and_stop_leaves_no_process(state_dir: Path) -> None:
    first = alertpipe("kafka", "start", "--state-dir", str(state_dir))
    assert first.returncode == 0, first.stderr
    bootstrap = first.stdout.strip().splitlines()[-1]
    assert bootstrap.startswith("127.0.0.1:")
    assert answers(bootstrap, timeout=10)

    second = alertpipe("kafka", "start", "--state-dir", str(state_dir))
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    assert second.stdout.strip() == bootstrap

    running = status(state_dir)
    assert running["running"] is True
    assert running["bootstrap_servers"] == bootstrap
    pid = running["pid"]
    assert isinstance(pid, int)

    stopped = alertpipe("kafka", "stop", "--state-dir", str(state_dir))
    assert stopped.returncode == 0, stopped.stderr
    assert not pid_runs(pid)
    assert status(state_dir)["running"] is False
    assert not answers(bootstrap, timeout=2)

    again = alertpipe("kafka", "stop", "--state-dir", str(state_dir))
    assert again.returncode == 0
    assert "not running" in again.stderr


def test_stale_pid_and_half_formatted_data_dir_are_repaired(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (state_dir / "broker.json").write_text(
        json.dumps({"pid": dead.pid, "broker_port": 1, "controller_port": 2})
    )
    (state_dir / "data").mkdir()
    (state_dir / "data" / "meta.properties").write_text("half written")

    started = alertpipe("kafka", "start", "--state-dir", str(state_dir))
    assert started.returncode == 0, started.stderr
    assert f"Removing stale PID {dead.pid}" in started.stderr
    assert "half-formatted" in started.stderr
    assert answers(started.stdout.strip(), timeout=10)


def test_status_of_a_broker_never_started(tmp_path: Path) -> None:
    report = status(tmp_path / "nothing")
    assert report["running"] is False
    assert report["bootstrap_servers"] is None


def test_a_three_broker_cluster_starts_loses_a_node_and_gets_it_back(tmp_path: Path) -> None:
    cluster = ["--brokers", "3", "--state-dir", str(tmp_path / "cluster")]
    try:
        started = alertpipe("kafka", "start", *cluster)
        assert started.returncode == 0, started.stderr
        bootstrap = started.stdout.strip().splitlines()[-1]
        assert len(bootstrap.split(",")) == 3
        assert all(address.startswith("127.0.0.1:") for address in bootstrap.split(","))

        def report() -> dict[str, Any]:
            result = alertpipe("kafka", "status", "--json", *cluster)
            assert result.returncode == 0, result.stderr
            parsed: dict[str, Any] = json.loads(result.stdout)
            return parsed

        assert report()["running"] == 3
        pid = report()["nodes"]["2"]["pid"]
        killed = alertpipe("kafka", "stop", "--node", "2", "--kill", *cluster)
        assert killed.returncode == 0, killed.stderr
        assert not pid_runs(pid)
        assert report()["running"] == 2
        survivors = ",".join(a for n, a in enumerate(bootstrap.split(","), 1) if n != 2)
        # two of three still serve (retried: metadata may name the dead node for a while)
        asyncio.run(wait_until_answers(survivors, 60))

        again = alertpipe("kafka", "start", *cluster)  # starts the missing node only
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip().splitlines()[-1] == bootstrap  # same ports
        assert report()["running"] == 3

        usage = alertpipe("kafka", "start", "--port", "1", *cluster)
        assert usage.returncode == 2
        assert "--port is for the single broker" in usage.stderr
    finally:
        alertpipe("kafka", "stop", "--timeout", "10", *cluster)
    assert report()["running"] == 0
