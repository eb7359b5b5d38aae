"""Noticing that this process stopped running for a while.

A worker frozen (SIGSTOP, a paused VM) for longer than its session timeout has been evicted:
its partitions and their incident states belong to another worker now, and until it is given
partitions again, whatever it decides must not reach the table: a state written late would land
in the changelog after the new owner's newer ones. Kafka's real fence is a transaction
(exactly-once), which faust-streaming does not offer reliably; this is the at-least-once
substitute: a tick in the event loop, and a question the stage-2 agent asks before and after it
writes states: "was this process stopped for long since my partitions were assigned?" If so,
it drops its local table and exits without acknowledging (the batch is redone by the owner).

Stopped, not busy: a long gap between ticks counts only if the process used little CPU in it,
so an event loop blocked by work (a large recovery) is not taken for a freeze.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

BUSY = 0.1  # a gap in which the process ran on more than this share of one core was work


class FreezeDetector:
    def __init__(
        self,
        threshold_s: float,
        tick_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        cpu: Callable[[], float] = time.process_time,
    ) -> None:
        self.threshold_s = threshold_s
        self.tick_s = tick_s
        self.clock = clock
        self.cpu = cpu
        self.last_tick = clock()
        self.last_cpu = cpu()
        self.last_freeze = float("-inf")  # when the latest freeze was noticed
        self.assigned_at = clock()

    def _stopped(self, now: float) -> bool:
        gap = now - self.last_tick
        return gap > self.threshold_s and self.cpu() - self.last_cpu < BUSY * gap

    def tick(self) -> None:
        now = self.clock()
        if self._stopped(now):
            self.last_freeze = now
        self.last_tick, self.last_cpu = now, self.cpu()

    def assigned(self) -> None:
        """Partitions were (re)assigned: the group counts this worker in again."""
        self.tick()
        self.assigned_at = self.clock()

    def frozen_since_assignment(self) -> bool:
        """Whether a freeze was noticed since the last assignment, or is ending now (the
        ticker has not run since the process resumed)."""
        return self._stopped(self.clock()) or self.last_freeze >= self.assigned_at

    async def run(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(self.tick_s)
