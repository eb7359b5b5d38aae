"""What the worker samples beside its processing loop: readiness and consumer lag per
partition. ``WorkerObserver.sample`` runs every ``SAMPLE_INTERVAL_S`` on
the side thread's event loop (``processors.worker.run``); it reads what the processing loop
reports and never touches the processing loop's clients.

- Assignment and rebalancing come from librdkafka's statistics (``cgrp`` and the partitions it
  assigned), which the processing loop's consumer delivers through ``stats_cb``; their arrival
  is also the loop's heartbeat for /healthz (they are served from within its ``poll``).
- State recovery is reported by quixstreams in its log (``RecoveryWatch``).
- Lag is measured against what Kafka holds, not what the worker last fetched: end offsets from
  a read_committed consumer (the last stable offset), committed offsets from the group
  coordinator. A worker that stopped fetching still shows its lag growing. Under exactly-once
  a partition at rest shows 1: the commit marker of the last transaction takes an offset.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from kafkaio.admin import connected_admin
from kafkaio.clients import KafkaTarget, new_consumer
from processors.routestore import RouteStore
from processors.worker.metrics import WorkerMetrics
from processors.worker.probes import WorkerHealth

log = logging.getLogger("alertpipe.worker")

SAMPLE_INTERVAL_S = 10.0
# How often librdkafka hands the processing loop's consumer statistics to ``stats_cb``.
STATS_INTERVAL_MS = 2000
# Bound on one admin round trip for committed offsets; a slow sample is skipped, not queued.
ADMIN_TIMEOUT_S = 5.0

Partition = tuple[str, int]


def readiness_problem(
    *, joined: bool, rebalancing: bool, recovering: bool, routes_loaded: bool
) -> str | None:
    """Why the worker is not ready yet, or None. Ready means it has joined its group (an extra
    worker beyond the partitions is ready and idle), is not rebalancing or restoring incident
    state, and routes with a complete table: a rolling restart waits for this before stopping
    the next worker."""
    if not joined:
        return "waiting to join the consumer group"
    if rebalancing:
        return "rebalancing"
    if recovering:
        return "restoring incident state from the changelog"
    if not routes_loaded:
        return "routing configs not loaded yet"
    return None


def partition_lag(
    ends: Mapping[Partition, int],
    committed: Mapping[Partition, int],
    starts: Mapping[Partition, int],
) -> dict[Partition, int]:
    """Records behind, per partition: end - committed. A partition the group never committed
    is behind by everything it still holds (end - start); an unknown end is left out."""
    lag = {}
    for tp, end in ends.items():
        base = committed.get(tp, starts.get(tp))
        if base is not None:
            lag[tp] = max(0, end - base)
    return lag


@dataclass(frozen=True)
class GroupView:
    """The consumer's view of its group, from one librdkafka statistics report."""

    steady: bool  # joined, not in the middle of a rebalance
    assigned: tuple[Partition, ...]


def group_view(stats: str | bytes, topics: Collection[str]) -> GroupView:
    """Parse a librdkafka statistics JSON: the group state and this member's partitions of
    ``topics`` (those librdkafka fetches for the application: ``desired``)."""
    report = json.loads(stats)
    group = report.get("cgrp") or {}
    steady = group.get("state") == "up" and group.get("join_state") == "steady"  # not joining
    assigned = []
    for name, topic in (report.get("topics") or {}).items():
        if name not in topics:
            continue
        for number, part in (topic.get("partitions") or {}).items():
            if int(number) >= 0 and part.get("desired"):
                assigned.append((name, int(number)))
    return GroupView(steady, tuple(sorted(assigned)))


class RecoveryWatch(logging.Handler):
    """Whether quixstreams is restoring state, from the lines it logs when recovery starts and
    ends (it offers no other signal). Only /readyz depends on it."""

    STARTS = "Beginning recovery check"
    ENDS = ("Recovery process complete", "Recovery process interrupted")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.recovering = False

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.STARTS):
            self.recovering = True
        elif message.startswith(self.ENDS):
            self.recovering = False


@dataclass
class LoopReport:
    """Written by the processing loop's ``stats_cb``, read by the observer (whole-attribute
    assignments only: no lock needed)."""

    topics: Collection[str]
    view: GroupView | None = None
    at: float | None = None  # time.monotonic() of the last report
    recovery: RecoveryWatch = field(default_factory=RecoveryWatch)

    def on_stats(self, stats: str) -> None:
        try:
            self.view = group_view(stats, self.topics)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("unreadable consumer statistics: %r", exc)
        self.at = time.monotonic()


class WorkerObserver:
    def __init__(
        self,
        report: LoopReport,
        routes: RouteStore,
        metrics: WorkerMetrics,
        kafka: KafkaTarget,
        group: str,
    ) -> None:
        self.report = report
        self.routes = routes
        self.metrics = metrics
        self.kafka = kafka
        self.group = group
        self.health = WorkerHealth()
        self._ends: AIOKafkaConsumer | None = None
        self._joined = False  # steady in the group at least once

    async def sample(self, lag: bool = True) -> None:
        report = self.report
        self.health.heartbeat = report.at
        view = report.view
        if view is not None and view.steady:
            self._joined = True
        problem = readiness_problem(
            joined=self._joined,
            rebalancing=view is None or not view.steady,
            recovering=report.recovery.recovering,
            routes_loaded=self.routes.caught_up,
        )
        self.health.not_ready = problem
        self.metrics.ready.set(0 if problem else 1)
        self.metrics.routes_loaded.set(len(self.routes.configs))
        if not lag or view is None or problem == "rebalancing":
            return  # assignments in flux: keep the last lag
        try:
            await self._sample_lag(view.assigned)
        except Exception as exc:  # metrics matter less than alerts: say so and carry on
            log.warning("could not sample consumer lag: %r", exc)

    async def close(self) -> None:
        if self._ends is not None:
            await self._ends.stop()

    async def _sample_lag(self, owned: Iterable[Partition]) -> None:
        tps = [TopicPartition(t, p) for t, p in owned]
        if not tps:
            self.metrics.replace_series(self.metrics.consumer_lag, {})
            return
        if self._ends is None:
            self._ends = new_consumer(
                self.kafka,
                enable_auto_commit=False,
                isolation_level="read_committed",
            )
            await self._ends.start()
        ends = _plain(await self._ends.end_offsets(tps))
        async with connected_admin(self.kafka, ADMIN_TIMEOUT_S) as admin:
            found = await admin.list_consumer_group_offsets(self.group, partitions=tps)
        committed = {_plain_tp(tp): m.offset for tp, m in found.items() if m.offset >= 0}
        never = [tp for tp in tps if _plain_tp(tp) not in committed]
        starts = _plain(await self._ends.beginning_offsets(never)) if never else {}
        lag = partition_lag(ends, committed, starts)
        self.metrics.replace_series(
            self.metrics.consumer_lag,
            {(topic, str(partition)): behind for (topic, partition), behind in lag.items()},
        )


def _plain_tp(tp: Any) -> Partition:
    return (str(tp.topic), int(tp.partition))


def _plain(offsets: Mapping[Any, int | None]) -> dict[Partition, int]:
    return {_plain_tp(tp): int(o) for tp, o in offsets.items() if o is not None}
