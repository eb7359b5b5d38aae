"""Prometheus metrics of the worker, served on their own port (the worker runs no web app)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_in = Counter(
            "alertpipe_worker_events", "Raw records consumed, by source.", ["source"], registry=r
        )
        self.alerts_out = Counter(
            "alertpipe_worker_alerts",
            "Normalized alerts published, by source and message type.",
            ["source", "message_type"],
            registry=r,
        )
        self.dead_letters = Counter(
            "alertpipe_worker_dead_letters",
            "Bodies dead-lettered, by source and error code.",
            ["source", "code"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            "alertpipe_worker_batch_seconds",
            "Time to process a batch of raw records and have its outputs acknowledged.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.processing_lag_seconds = Histogram(
            "alertpipe_worker_processing_lag_seconds",
            "From the ingress receiving a webhook to its outputs being acknowledged.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.batch_size = Histogram(
            "alertpipe_worker_batch_size",
            "Raw records per batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000),
            registry=r,
        )
        self.emitted = Counter(
            "alertpipe_worker_incident_emitted",
            "Alerts emitted by the incident stage, by decision (open, resolve, ...).",
            ["reason"],
            registry=r,
        )
        self.suppressed = Counter(
            "alertpipe_worker_incident_suppressed",
            "Alerts suppressed by the incident stage, by reason (duplicate, redelivery, late, "
            "resolved_again, not_open).",
            ["reason"],
            registry=r,
        )
        self.expired = Counter(
            "alertpipe_worker_incident_expired",
            "Incident states forgotten after their TTL.",
            registry=r,
        )
        self.routes_loaded = Gauge(
            "alertpipe_worker_routing_configs", "Orgs with a routing config loaded.", registry=r
        )
        # Sampled every few seconds by processors.observe (not on the hot path).
        self.consumer_lag = Gauge(
            "alertpipe_worker_consumer_lag",
            "Records not yet committed by this worker's consumer group, per partition it owns "
            "(end offset - committed offset).",
            ["topic", "partition"],
            registry=r,
        )
        self.table_keys = Gauge(
            "alertpipe_worker_incident_table_keys",
            "Incident states held in the table partitions this worker owns.",
            registry=r,
        )
        self.ready = Gauge(
            "alertpipe_worker_ready",
            "1 when the worker is ready (joined its group, table recovered, routes loaded).",
            registry=r,
        )
        self._series: dict[int, set[tuple[str, ...]]] = {}

    def count_stage_one(
        self,
        events_in: Mapping[str, int],
        alerts_out: Mapping[tuple[str, str], int],
        dead_letters: Mapping[tuple[str, str], int],
    ) -> None:
        """A batch's counts, one ``inc`` per label set (not per event)."""
        for source, n in events_in.items():
            self.events_in.labels(source).inc(n)
        for (source, message_type), n in alerts_out.items():
            self.alerts_out.labels(source, message_type).inc(n)
        for (source, code), n in dead_letters.items():
            self.dead_letters.labels(source, code).inc(n)

    def count_decisions(self, emitted: Mapping[str, int], suppressed: Mapping[str, int]) -> None:
        """A stage-2 batch's decisions by reason, one ``inc`` per reason."""
        for reason, n in emitted.items():
            self.emitted.labels(reason).inc(n)
        for reason, n in suppressed.items():
            self.suppressed.labels(reason).inc(n)

    def replace_series(self, gauge: Gauge, values: Mapping[tuple[str, ...], float]) -> None:
        """Set ``gauge`` to exactly ``values`` (label values -> value): series of partitions
        this worker no longer owns disappear instead of keeping their last value."""
        for gone in self._series.get(id(gauge), set()) - set(values):
            gauge.remove(*gone)
        for labels, value in values.items():
            gauge.labels(*labels).set(value)
        self._series[id(gauge)] = set(values)
