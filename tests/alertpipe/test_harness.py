"""The one process harness of the tests and the benchmarks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from alertpipe.harness import HarnessError, spawn, wait_http_ready, wait_worker_ready, worker_env
from kafkaio.settings import load_settings, prefixed_topics


def test_a_worker_environment_is_its_own_group_and_the_topics(tmp_path: Path) -> None:
    topics = prefixed_topics("t.x", replication_factor=3)
    one = worker_env("k:1", topics, tmp_path, ALERTPIPE_WORKER_METRICS_PORT="9999")
    two = worker_env("k:1", topics, tmp_path)
    assert one["ALERTPIPE_WORKER_GROUP"] != two["ALERTPIPE_WORKER_GROUP"]
    assert one["ALERTPIPE_WORKER_GROUP"].startswith("test-")
    assert (one["ALERTPIPE_WORKER_METRICS_PORT"], two["ALERTPIPE_WORKER_METRICS_PORT"]) == (
        "9999",
        "0",
    )
    assert one["ALERTPIPE_WORKER_DATA_DIR"] == str(tmp_path)
    settings = load_settings(one)
    assert settings.bootstrap_servers == "k:1"
    assert settings.topics == topics


def test_a_process_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "print('no broker'); raise SystemExit(3)"]
    proc = spawn("ingress", [], {}, tmp_path / "ingress.log", command=command)
    with pytest.raises(HarnessError, match=r"ingress exited \(3\):\nno broker"):
        wait_http_ready(proc, "http://127.0.0.1:9/readyz", timeout=30)
    proc = spawn("worker", [], {}, tmp_path / "worker.log", command=command)
    with pytest.raises(HarnessError, match=r"worker exited \(3\)"):
        wait_worker_ready(proc, timeout=30)
