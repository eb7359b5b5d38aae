"""The freeze detector, on hand-driven clocks."""

from __future__ import annotations

from processors.freeze import FreezeDetector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def detector() -> tuple[FreezeDetector, Clock, Clock]:
    wall, cpu = Clock(), Clock()
    return FreezeDetector(threshold_s=5, clock=wall, cpu=cpu), wall, cpu


def test_regular_ticks_are_not_a_freeze() -> None:
    freeze, wall, cpu = detector()
    for _ in range(100):
        wall.now += 0.2
        cpu.now += 0.1
        freeze.tick()
    assert not freeze.frozen_since_assignment()


def test_a_stop_is_seen_before_and_after_the_ticker_resumes_until_reassigned() -> None:
    freeze, wall, _cpu = detector()
    wall.now += 20  # SIGSTOP: no CPU used
    assert freeze.frozen_since_assignment()  # the agent asks first
    freeze.tick()  # or the ticker ran first
    wall.now += 1
    freeze.tick()
    assert freeze.frozen_since_assignment()  # still: the group has not taken us back
    wall.now += 1
    freeze.assigned()
    assert not freeze.frozen_since_assignment()


def test_a_loop_blocked_by_work_is_not_a_freeze() -> None:
    freeze, wall, cpu = detector()
    wall.now += 20
    cpu.now += 19  # busy the whole time (say, restoring a large table)
    assert not freeze.frozen_since_assignment()
    freeze.tick()
    assert not freeze.frozen_since_assignment()


def test_a_short_gap_is_not_a_freeze() -> None:
    freeze, wall, _cpu = detector()
    wall.now += 4.9
    freeze.tick()
    assert not freeze.frozen_since_assignment()
