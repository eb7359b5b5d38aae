"""Prometheus metrics of the worker, served on their own port (processors.worker.probes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from processors.incidents import Decision
from processors.pipeline import StageOneResult


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
        self.processing_lag_seconds = Histogram(
            "alertpipe_worker_processing_lag_seconds",
            "From the ingress receiving a webhook to the worker's stage 1 processing it.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
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
        self.loop_restarts = Counter(
            "alertpipe_worker_loop_restarts",
            "Times the processing loop failed and started again from its last checkpoint.",
            registry=r,
        )
        self.routes_loaded = Gauge(
            "alertpipe_worker_routing_configs", "Orgs with a routing config loaded.", registry=r
        )
        # Sampled every few seconds by processors.worker.observe (not on the hot path).
        self.consumer_lag = Gauge(
            "alertpipe_worker_consumer_lag",
            "Records not yet committed by this worker's consumer group, per partition it owns "
            "(end offset - committed offset).",
            ["topic", "partition"],
            registry=r,
        )
        self.ready = Gauge(
            "alertpipe_worker_ready",
            "1 when the worker is ready (partitions assigned, state recovered, routes loaded).",
            registry=r,
        )
        self._series: dict[int, set[tuple[str, ...]]] = {}
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def count_stage_one(self, result: StageOneResult, now: float) -> None:
        """One raw record's outcome: counted per label set through cached children (a
        ``labels()`` lookup per record showed in the profile)."""
        self._child(self.events_in, result.source).inc()
        letter = result.dead_letter
        if letter is not None:
            self._child(self.dead_letters, result.source, letter.code).inc()
        for alert in result.alerts:
            self._child(self.alerts_out, alert.source, alert.message_type).inc()
        if result.envelope is not None:
            lag = now - result.envelope.received_at / 1000
            self.processing_lag_seconds.observe(max(0.0, lag))

    def count_decision(self, decision: Decision) -> None:
        family = self.emitted if decision.emit else self.suppressed
        self._child(family, decision.reason).inc()

    def _child(self, family: Counter, *labels: str) -> Any:
        key = (id(family), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = family.labels(*labels)
        return child

    def replace_series(self, gauge: Gauge, values: Mapping[tuple[str, ...], float]) -> None:
        """Set ``gauge`` to exactly ``values`` (label values -> value): series of partitions
        this worker no longer owns disappear instead of keeping their last value."""
        for gone in self._series.get(id(gauge), set()) - set(values):
            gauge.remove(*gone)
        for labels, value in values.items():
            gauge.labels(*labels).set(value)
        self._series[id(gauge)] = set(values)
