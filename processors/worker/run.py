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
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from quixstreams import Application
from quixstreams.kafka.configuration import ConnectionConfig

from kafkaio.clients import KafkaConnection
from kafkaio.worker_topics import internal_topics
from processors.maintenancestore import MaintenanceStore
from processors.routestore import RouteStore
from processors.settings import WorkerSettings, incident_policy
from processors.validate import SchemaSet
from processors.worker.metrics import WorkerMetrics
from processors.worker.observe import (
    SAMPLE_INTERVAL_S,
    STATS_INTERVAL_MS,
    LoopReport,
    WorkerObserver,
)
from processors.worker.probes import start_endpoint
from processors.worker.stalls import StallGuard, stall_limit_s
from processors.worker.topology import build_dataflow

log = logging.getLogger("alertpipe.worker")
EXIT_RESTART = 75  # sysexits' EX_TEMPFAIL: start me again (alertpipe.devrun does)
READINESS_INTERVAL_S = 1.0


def heartbeat_s(settings: WorkerSettings) -> float:
    """The consumer's heartbeat interval: a fifth of the session, at least a second."""
    return max(1.0, settings.session_timeout_s / 5)


def kafka_configs(settings: WorkerSettings, report: LoopReport) -> tuple[dict[str, Any], ...]:
    """librdkafka settings of the loop's consumer and producer. A stable instance id gives
    static group membership (a restarted worker takes its partitions back without a
    rebalance) and a stable transactional id (it fences its predecessor's open transaction
    at once instead of waiting for the transaction timeout); without one, the transactional
    id is ``<group>-<random>``, a new one per loop start. Heartbeat H, a fifth of the
    session: the broker drops a dead member one session after its last beat, i.e. between
    session - H and session after the crash, so a shorter H does not take over sooner (an
    at-least-once member, which learns of the rebalance only from a heartbeat, rejoins up to H
    later; an exactly-once one learns at its next checkpoint)."""
    consumer: dict[str, Any] = {
        "session.timeout.ms": int(settings.session_timeout_s * 1000),
        "heartbeat.interval.ms": int(heartbeat_s(settings) * 1000),
        "statistics.interval.ms": STATS_INTERVAL_MS,
        "stats_cb": report.on_stats,
    }
    producer: dict[str, Any] = {
        "transaction.timeout.ms": int(settings.transaction_timeout_s * 1000),
    }
    if settings.instance_id:
        consumer["group.instance.id"] = settings.instance_id
    if settings.exactly_once:
        # Always <group>-...: one prefixed ACL on "<group>-" covers every worker of the group
        # (kafkaio.acls). Without an instance id, a random suffix, as quixstreams' own default.
        suffix = settings.instance_id or uuid.uuid4().hex
        producer["transactional.id"] = f"{settings.group}-{suffix}"
    return consumer, producer


def broker_address(kafka: KafkaConnection) -> ConnectionConfig:
    """quixstreams' connection settings (its consumer, producer and admin client all use
    them): the same TLS and SASL settings as every aiokafka client, as librdkafka keys."""
    return ConnectionConfig.from_librdkafka_dict(kafka.librdkafka_config())


def create_application(settings: WorkerSettings, report: LoopReport) -> Application:
    bootstrap = settings.kafka.bootstrap_servers
    if not bootstrap:
        raise ValueError("the worker needs KAFKA_BOOTSTRAP_SERVERS")
    consumer, producer = kafka_configs(settings, report)
    return Application(
        broker_address=broker_address(settings.kafka.connection(bootstrap)),
        consumer_group=settings.group,
        auto_offset_reset="earliest",  # a new group starts at the oldest raw record kept
        processing_guarantee=settings.processing_guarantee,
        commit_interval=settings.commit_interval_s,
        # An idle poll delays the next checkpoint by up to this: keep it under the interval.
        consumer_poll_timeout=min(settings.commit_interval_s, 0.1),
        consumer_extra_config=consumer,
        producer_extra_config=producer,
        state_dir=settings.data_dir,
        loglevel=None,  # our JSON logs (alertpipe.cli.worker) carry quixstreams' lines too
    )


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
    log.info("waiting for the routing configs before processing")
    side.run(routes.wait_caught_up())
    log.info("waiting for the maintenance windows before processing")
    side.run(windows.wait_caught_up())
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
        limit = stall_limit_s(settings.session_timeout_s, heartbeat_s(settings))
        StallGuard(limit, EXIT_RESTART).start()
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
