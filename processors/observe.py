"""What the worker samples instead of counting on the hot path: readiness, consumer lag per
partition and the size of the incident table. An app timer calls ``WorkerObserver.sample``
every ``SAMPLE_INTERVAL_S``; each sample is also the event loop's heartbeat for /healthz.

Lag is measured against what Kafka holds, not what the worker last fetched: end offsets from
the broker, committed offsets from the group coordinator. A worker that stopped fetching
still shows its lag growing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from alertpipe.topics import connected_admin
from processors.metrics import WorkerMetrics
from processors.probes import WorkerHealth
from processors.routestore import RouteStore

log = logging.getLogger("alertpipe.worker")

SAMPLE_INTERVAL_S = 10.0
# Bound on one admin round trip for committed offsets; a slow sample is skipped, not queued.
ADMIN_TIMEOUT_S = 5.0

Partition = tuple[str, int]  # (topic, partition): faust's TP and aiokafka's TopicPartition


def readiness_problem(
    *, rebalances: int, rebalancing: bool, recovering: bool, routes_loaded: bool
) -> str | None:
    """Why the worker is not ready yet, or None. Ready means it has joined its group at least
    once, is not rebalancing or restoring table state, and routes with a complete table:
    a rolling restart waits for this before stopping the next worker."""
    if rebalances == 0:
        return "waiting for the first partition assignment"
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


class WorkerObserver:
    def __init__(
        self,
        app: Any,  # faust.App (untyped)
        table: Any,  # faust Table of incident states
        routes: RouteStore,
        metrics: WorkerMetrics,
        bootstrap_servers: str,
        topics: Collection[str],
    ) -> None:
        self.app = app
        self.table = table
        self.routes = routes
        self.metrics = metrics
        self.bootstrap_servers = bootstrap_servers
        self.topics = topics
        self.health = WorkerHealth()

    async def sample(self) -> None:
        self.health.heartbeat = time.monotonic()
        problem = readiness_problem(
            rebalances=self.app.rebalancing_count,
            rebalancing=self.app.rebalancing,
            recovering=self.app.in_recovery,
            routes_loaded=self.routes.caught_up,
        )
        self.health.not_ready = problem
        self.metrics.ready.set(0 if problem else 1)
        if problem == "rebalancing" or self.app.rebalancing_count == 0:
            return  # assignments are in flux; keep the last lag and size
        try:
            await self._sample_lag()
            # Exact count over the partitions this worker owns: RocksDB's estimate counts
            # every overwrite still in the memtable, and incident states are overwritten on
            # every alert. A full key scan costs ~1 µs a key, every SAMPLE_INTERVAL_S.
            self.metrics.table_keys.set(sum(1 for _ in self.table))
        except Exception as exc:  # metrics matter less than alerts: say so and carry on
            log.warning("could not sample consumer lag or table size: %r", exc)

    async def _sample_lag(self) -> None:
        consumer = self.app.consumer
        owned = sorted(tp for tp in consumer.assignment() if tp.topic in self.topics)
        if not owned:
            self.metrics.replace_series(self.metrics.consumer_lag, {})
            return
        ends = _plain(await consumer.highwaters(*owned))
        committed = await self._committed(owned)
        uncommitted = [tp for tp in owned if _plain_tp(tp) not in committed]
        starts = _plain(await consumer.earliest_offsets(*uncommitted)) if uncommitted else {}
        lag = partition_lag(ends, committed, starts)
        self.metrics.replace_series(
            self.metrics.consumer_lag,
            {(topic, str(partition)): behind for (topic, partition), behind in lag.items()},
        )

    async def _committed(self, owned: Iterable[Any]) -> dict[Partition, int]:
        async with connected_admin(self.bootstrap_servers, ADMIN_TIMEOUT_S) as admin:
            found = await admin.list_consumer_group_offsets(
                self.app.conf.id, partitions=list(owned)
            )
        return {_plain_tp(tp): meta.offset for tp, meta in found.items() if meta.offset >= 0}


def _plain_tp(tp: Any) -> Partition:
    return (str(tp.topic), int(tp.partition))


def _plain(offsets: Mapping[Any, int | None]) -> dict[Partition, int]:
    return {_plain_tp(tp): int(o) for tp, o in offsets.items() if o is not None}
