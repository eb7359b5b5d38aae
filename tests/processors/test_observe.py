"""The pure parts of the worker's self-observation: lag arithmetic, readiness, probe answers,
and gauges that drop the series of partitions the worker gave up."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest

from processors.worker.metrics import WorkerMetrics
from processors.worker.observe import (
    GroupView,
    RecoveryWatch,
    group_view,
    partition_lag,
    readiness_problem,
)
from processors.worker.probes import (
    STALE_AFTER_S,
    MetricsPortUnavailable,
    WorkerHealth,
    probe,
    start_endpoint,
    wsgi_app,
)
from processors.worker.run import Restarts


def test_lag_is_end_minus_committed_or_everything_held_when_never_committed() -> None:
    ends = {("raw", 0): 120, ("raw", 1): 50, ("raw", 2): 9, ("stage1", 0): 7}
    committed = {("raw", 0): 100, ("raw", 2): 9}
    starts = {("raw", 1): 20}
    assert partition_lag(ends, committed, starts) == {("raw", 0): 20, ("raw", 1): 30, ("raw", 2): 0}


def test_a_committed_offset_past_a_stale_end_is_no_negative_lag() -> None:
    assert partition_lag({("raw", 0): 10}, {("raw", 0): 12}, {}) == {("raw", 0): 0}


def test_ready_only_when_assigned_steady_recovered_and_routing() -> None:
    def problem(**changes: bool) -> str | None:
        state: dict[str, bool] = {
            "joined": True, "rebalancing": False, "recovering": False, "routes_loaded": True,
        }  # fmt: skip
        return readiness_problem(**{**state, **changes})

    assert problem() is None
    assert problem(joined=False) == "waiting to join the consumer group"
    assert problem(rebalancing=True) == "rebalancing"
    assert problem(recovering=True) == "restoring incident state from the changelog"
    assert problem(routes_loaded=False) == "routing configs not loaded yet"


def test_the_group_view_reads_librdkafka_statistics() -> None:
    stats = {
        "cgrp": {"state": "up", "join_state": "steady", "assignment_size": 2},
        "topics": {
            "raw": {"partitions": {"0": {"desired": True}, "1": {"desired": False},
                                   "-1": {"desired": False}}},
            "changelog__g--x": {"partitions": {"0": {"desired": True}}},
            "repartition__g--raw--incident": {"partitions": {"2": {"desired": True}}},
        },
    }  # fmt: skip
    view = group_view(json.dumps(stats), {"raw", "repartition__g--raw--incident"})
    assert view == GroupView(True, (("raw", 0), ("repartition__g--raw--incident", 2)))
    joining = {**stats, "cgrp": {"state": "up", "join_state": "wait-join", "assignment_size": 2}}
    assert not group_view(json.dumps(joining), {"raw"}).steady


def test_recovery_is_followed_from_quixstreams_log_lines() -> None:
    watch = RecoveryWatch()
    logger = logging.getLogger("test.quixstreams.recovery")
    logger.addHandler(watch)
    logger.setLevel(logging.INFO)
    logger.info("Beginning recovery check...")
    assert watch.recovering
    logger.info("Recovery process complete! Resuming normal processing...")
    assert not watch.recovering


def answer(path: str, health: WorkerHealth, now: float) -> tuple[int, dict[str, Any]]:
    """``probe``'s answer for a path it serves."""
    found = probe(path, health, now)
    assert found is not None, path
    return found


def test_health_fails_only_when_the_heartbeat_is_stale() -> None:
    assert probe("/healthz", WorkerHealth(), now=1e6) == (200, {"status": "ok"})  # starting
    fresh = WorkerHealth(heartbeat=100.0)
    assert answer("/healthz", fresh, now=100.0 + STALE_AFTER_S)[0] == 200
    status, body = answer("/healthz", fresh, now=100.0 + STALE_AFTER_S + 1)
    assert status == 503
    assert "silent" in body["problem"]


def test_readiness_says_why_not() -> None:
    assert probe("/readyz", WorkerHealth(not_ready="rebalancing"), now=0) == (
        503,
        {"status": "not ready", "problem": "rebalancing"},
    )
    assert probe("/readyz", WorkerHealth(not_ready=None), now=0) == (200, {"status": "ready"})
    assert probe("/other", WorkerHealth(), now=0) is None


def test_lag_series_of_partitions_given_up_disappear() -> None:
    metrics = WorkerMetrics()
    metrics.replace_series(metrics.consumer_lag, {("raw", "0"): 5, ("raw", "1"): 7})
    metrics.replace_series(metrics.consumer_lag, {("raw", "1"): 3})
    text = generate_latest(metrics.registry).decode()
    assert 'alertpipe_worker_consumer_lag{partition="1",topic="raw"} 3.0' in text
    assert 'partition="0"' not in text


def test_the_endpoint_serves_metrics_and_both_probes() -> None:
    metrics = WorkerMetrics()
    health = WorkerHealth(heartbeat=0.0, not_ready=None)
    app = wsgi_app(metrics.registry, health, clock=lambda: 1.0)
    transport = httpx.WSGITransport(app=app)
    with httpx.Client(transport=transport, base_url="http://worker") as client:
        assert "alertpipe_worker_ready" in client.get("/metrics").text
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 200
        health.not_ready = "rebalancing"
        assert client.get("/readyz").status_code == 503
        assert client.get("/nope").status_code == 404


def test_a_busy_metrics_port_stops_the_worker_with_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsPortUnavailable) as caught:
            start_endpoint("127.0.0.1", port, WorkerMetrics().registry, WorkerHealth())
    assert caught.value.exit_code == 2
    assert f"metrics port 127.0.0.1:{port} cannot be bound" in str(caught.value)
    assert "ALERTPIPE_WORKER_METRICS_PORT" in str(caught.value)


def test_a_failed_loop_starts_again_backing_off_and_gives_up_when_it_keeps_failing() -> None:
    restarts = Restarts(max_quick=3, quick_s=60)
    assert [restarts.after_failure(ran_s=1) for _ in range(3)] == [0, 1, 3]
    assert restarts.after_failure(ran_s=1) is None
    again = Restarts(max_quick=3, quick_s=60)
    delays = [again.after_failure(ran_s=s) for s in (1, 1, 600, 1)]
    assert delays == [0, 1, 0, 1]  # a loop that ran a while starts a new streak
