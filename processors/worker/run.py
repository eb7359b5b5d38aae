"""``alertpipe worker``: the quixstreams application and what runs beside it.

The processing loop (quixstreams, on the main thread) runs the dataflow of
``processors.worker.topology``. A side thread runs an asyncio loop for what must not slow it:
the routing-config and maintenance-window followers, the readiness and lag sampler, and (its
own thread) the /metrics, /healthz and /readyz endpoint. The loop starts only once the routes
and the windows are loaded, so no alert is routed with a half-loaded table or misses a window.

SIGTERM: quixstreams finishes the record in hand, commits its checkpoint and leaves. A failure
of the loop (a transaction that timed out while a partition leader moved, Kafka gone for too
long) commits nothing: the loop starts again from the last checkpoint, with the same alert_ids
(``Restarts``), and a loop that keeps failing exits with status 75 for the supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from kafkaio.worker_topics import internal_topics
from processors.maintenancestore import MaintenanceStore
from processors.routestore import RouteStore
from processors.settings import WorkerSettings, incident_policy
from processors.validate import SchemaSet
from processors.worker.metrics import WorkerMetrics
from processors.worker.observe import SAMPLE_INTERVAL_S, LoopReport, WorkerObserver
from processors.worker.probes import start_endpoint
from processors.worker.stalls import StallGuard, stall_limit_s

log = logging.getLogger("alertpipe.worker")
EXIT_RESTART = 75  # sysexits' EX_TEMPFAIL: start me again (alertpipe.devrun does)
READINESS_INTERVAL_S = 1.0


class SideLoop:
    """An asyncio loop on a daemon thread, for the follower and the sampler."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="side", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` on the side loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop)


async def _sample_forever(observer: WorkerObserver) -> None:
    """Readiness every second (tests and rollouts wait on it), lag every SAMPLE_INTERVAL_S."""
    was_ready = False
    ticks = 0
    while True:
        await observer.sample(lag=ticks % int(SAMPLE_INTERVAL_S / READINESS_INTERVAL_S) == 0)
        ready = observer.health.not_ready is None
        if ready != was_ready:
            log.info("worker ready" if ready else f"worker not ready: {observer.health.not_ready}")
            was_ready = ready
        ticks += 1
        await asyncio.sleep(READINESS_INTERVAL_S)


@dataclass
class Restarts:
    """When to start the processing loop again after it failed (a transaction that timed out
    while a partition leader moved, Kafka gone for too long): at once, then backing off. A loop
    that keeps failing soon after its start (say, fenced by another worker with the same
    instance id) gives up after ``max_quick`` tries and leaves it to the supervisor."""

    max_quick: int = 5
    quick_s: float = 60.0
    streak: int = 0

    def after_failure(self, ran_s: float) -> float | None:
        """Seconds to wait before the next start, or None: give up."""
        self.streak = self.streak + 1 if ran_s < self.quick_s else 1
        if self.streak > self.max_quick:
            return None
        return min(30.0, 2.0 ** (self.streak - 1) - 1)


def stop_requested_within(seconds: float) -> bool:
    """Wait, unless SIGTERM/SIGINT comes first (quixstreams' handlers belong to its loop)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop.wait(seconds)


def run_worker(settings: WorkerSettings, schemas: SchemaSet | None) -> int:
    """Run until SIGTERM/SIGINT (0), starting the processing loop again from its last
    checkpoint when it fails; EXIT_RESTART when it keeps failing."""
    bootstrap = settings.kafka.bootstrap_servers
    assert bootstrap, "checked by the CLI"
    kafka = settings.kafka.connection(bootstrap)
    topics = settings.kafka.topics
    internal = internal_topics(settings.group, topics.raw)
    metrics = WorkerMetrics()
    report = LoopReport(topics={topics.raw, internal.repartition})
    logging.getLogger("quixstreams").addHandler(report.recovery)
    routes = RouteStore(kafka, topics.routes)
    observer = WorkerObserver(report, routes, metrics, kafka, settings.group)
    if settings.metrics_port:  # a port that cannot be bound stops the worker here, in one line
        start_endpoint(
            settings.metrics_host, settings.metrics_port, metrics.registry, observer.health
        )
    side = SideLoop()
    windows = MaintenanceStore(kafka, topics.maintenance)
    side.run(routes.start())
    side.run(windows.start())
    side.spawn(_sample_forever(observer))
    # Imported while the followers read their topics: quixstreams takes about half a second
    # to import here, time a restarted worker would otherwise add to its way back to output.
    from processors.worker.app import create_application
    from processors.worker.topology import build_dataflow

    names = {
        "raw": topics.raw,
        "repartition": internal.repartition,
        "normalized": topics.normalized,
        "dead_letter": topics.dead_letter,
    }
    policy = incident_policy(settings)
    log.info(
        "processing %s (%s, commit every %ss) into %s and %s",
        topics.raw,
        settings.processing_guarantee,
        settings.commit_interval_s,
        topics.normalized,
        topics.dead_letter,
    )
    if not settings.exactly_once:
        # exactly-once fences a late writer; at-least-once leaves before it writes
        limit = stall_limit_s(settings.session_timeout_s, settings.heartbeat_s)
        StallGuard(limit, EXIT_RESTART).start()
    loaded = False
    restarts = Restarts()
    try:
        while True:
            started = time.monotonic()
            try:
                # Building the dataflow asks the cluster for the topics' configs: with the
                # controller unreachable it fails like the loop does, and is retried as one.
                app = create_application(settings, report)
                build_dataflow(
                    app,
                    names,
                    routes.configs,
                    schemas,
                    policy,
                    metrics,
                    skip_replays=not settings.exactly_once,
                    maintenance=windows.table.by_org,
                )
                if not loaded:  # the application is made meanwhile; it runs only after both
                    for store, what in (
                        (routes, "routing configs"),
                        (windows, "maintenance windows"),
                    ):
                        if not store.caught_up:  # (said only when it really waits)
                            log.info("waiting for the %s before processing", what)
                        side.run(store.wait_caught_up())
                    loaded = True
                app.run()
                break  # SIGTERM/SIGINT: quixstreams committed its checkpoint
            except Exception:
                delay = restarts.after_failure(time.monotonic() - started)
                if delay is None:
                    log.critical(
                        "the processing loop failed %d times in a row; exiting without committing",
                        restarts.streak - 1,
                        exc_info=True,
                    )
                    return EXIT_RESTART
                log.error(
                    "the processing loop failed; starting it again in %.0fs from the last "
                    "checkpoint",
                    delay,
                    exc_info=True,
                )
                metrics.loop_restarts.inc()
                if stop_requested_within(delay):
                    break
    finally:
        with contextlib.suppress(Exception):
            side.run(routes.stop())
            side.run(windows.stop())
            side.run(observer.close())
    log.info("worker stopped")
    return 0
