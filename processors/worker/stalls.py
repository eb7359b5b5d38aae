"""At-least-once only: a worker that was stopped for longer than its group waits leaves at
once, before its processing loop can write anything more.

Under at-least-once nothing fences a worker that its group evicted while it was frozen
(SIGSTOP, a paused VM, a swap storm). On waking it would finish the checkpoint in hand and
write the incident states it held to the changelog after those of the worker that took its
partitions over; whoever restores such a partition next takes the stale states (an alert
suppressed as a repeat, or emitted twice: docs/reliability.md). Exactly-once needs no guard:
the group's generation fences the late transaction, and its writes are aborted.

A daemon thread notes the time every ``tick_s``. When the process resumes, the kernel sends it
SIGCONT, whose handler runs on the main thread at its next bytecode, before the loop goes on:
it compares the time with the last tick; the thread does the same at its next tick (a stall
that sent no SIGCONT). Past ``limit_s`` the process logs why and exits at once with the
restart status, committing nothing: the supervisor starts it again and it rejoins from the
last committed offsets. What it had handed to librdkafka before the stall may still be sent
when it wakes (a freeze in the middle of a checkpoint's flush): the guard closes the window of
the processing loop, not that one.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable

log = logging.getLogger("alertpipe.worker")

TICK_S = 0.1


def stall_limit_s(session_timeout_s: float, heartbeat_s: float) -> float:
    """How long a stall may last before the group may have evicted the worker: the session
    timeout counts from the last heartbeat, which went out up to one interval before it."""
    return max(1.0, session_timeout_s - heartbeat_s)


class StallGuard:
    """Leaves with ``exit_code`` (through ``leave``, ``os._exit`` by default: no clean-up may
    write) when more than ``limit_s`` passed between two looks at the clock."""

    def __init__(
        self,
        limit_s: float,
        exit_code: int,
        *,
        tick_s: float = TICK_S,
        clock: Callable[[], float] = time.monotonic,
        leave: Callable[[int], object] = os._exit,
    ) -> None:
        self.limit_s = limit_s
        self.exit_code = exit_code
        self.tick_s = tick_s
        self.clock = clock
        self.leave = leave
        self.last = clock()

    def check(self) -> None:
        stalled = self.clock() - self.last
        if stalled > self.limit_s:
            log.critical(
                "this worker was stopped for %.1fs, longer than its group waits (%.1fs): its "
                "partitions have moved on; leaving without writing anything more (start it "
                "again)",
                stalled,
                self.limit_s,
            )
            for handler in logging.getLogger().handlers:
                handler.flush()
            self.leave(self.exit_code)

    def tick(self) -> None:
        self.check()
        self.last = self.clock()

    def start(self) -> None:
        """The SIGCONT handler (call from the main thread) and the ticking thread."""
        signal.signal(signal.SIGCONT, lambda *_: self.check())
        threading.Thread(target=self._run, name="stall-guard", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.tick_s)
            self.tick()
