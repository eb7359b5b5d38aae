"""The at-least-once worker's stall guard (``processors.worker.stalls``): the rule with a fake
clock, and a real worker stopped with SIGSTOP past its session on the real broker."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from alertpipe.harness import Proc, fresh_topics, spawn, wait_worker_ready, worker_env
from processors.worker.run import EXIT_RESTART
from processors.worker.stalls import StallGuard, stall_limit_s


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_is_the_session_less_one_heartbeat() -> None:
    assert stall_limit_s(15.0, 3.0) == 12.0
    assert stall_limit_s(1.5, 1.0) == 1.0  # never below a second


def test_ticks_within_the_limit_never_leave_and_a_longer_gap_leaves_once_checked() -> None:
    clock, left = FakeClock(), list[int]()
    guard = StallGuard(5.0, EXIT_RESTART, clock=clock, leave=left.append)
    for _ in range(100):
        clock.now += 0.1
        guard.tick()
    assert left == []
    clock.now += 4.9  # a pause under the limit (a slow moment, not an eviction)
    guard.check()
    assert left == []
    clock.now += 0.2  # 5.1 s since the last tick: SIGCONT's check sees it
    guard.check()
    assert left == [EXIT_RESTART]


async def stalled_worker(bootstrap: str, tmp_path: Path, seconds: float, **extra: str) -> Proc:
    """A ready at-least-once worker, stopped with SIGSTOP for ``seconds``, then continued."""
    topics = await fresh_topics(bootstrap, partitions=1)
    guarantee = {"ALERTPIPE_PROCESSING_GUARANTEE": "at-least-once"}
    env = worker_env(bootstrap, topics, tmp_path / "data", **guarantee, **extra)
    worker = spawn("worker", ["worker"], env, tmp_path / "worker.log")
    try:
        wait_worker_ready(worker)
        worker.popen.send_signal(signal.SIGSTOP)
        await asyncio.sleep(seconds)
        worker.popen.send_signal(signal.SIGCONT)
    except BaseException:
        worker.stop()
        raise
    return worker


@pytest.mark.kafka
async def test_an_at_least_once_worker_stopped_past_its_session_leaves_on_waking(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # session 6 s: a stall over 4.8 s may have cost the group
    worker = await stalled_worker(
        kafka_bootstrap, tmp_path, 7, ALERTPIPE_WORKER_SESSION_TIMEOUT_S="6"
    )
    try:
        code = await asyncio.to_thread(worker.popen.wait, 10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker went on after its stall:\n{worker.tail()}")
    finally:
        worker.stop()
    assert code == EXIT_RESTART, worker.tail()
    assert "this worker was stopped for" in worker.text()


@pytest.mark.kafka
async def test_an_at_least_once_worker_stopped_briefly_goes_on(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # 2 s: well under the 12 s of the default 15 s session
    worker = await stalled_worker(kafka_bootstrap, tmp_path, 2)
    try:
        await asyncio.sleep(2)
        assert worker.popen.poll() is None, worker.tail()
    finally:
        assert worker.stop() == 0, worker.tail()
