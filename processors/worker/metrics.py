"""Prometheus metrics of the worker, served on their own port (processors.worker.probes)."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter as Tally
from collections.abc import Iterator, Mapping
from itertools import accumulate
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from processors.incidents import Decision
from processors.pipeline import StageOneResult

LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class HotCounts:
    """The per-record counts, kept as plain numbers by the processing loop (its only writer)
    and read by the scrape through ``collect``: a prometheus_client Counter or Histogram takes a
    lock per update, and at four updates per record that was 5% of the worker's time.
    A scrape sees each count at some recent moment (each number is read whole)."""

    def __init__(self) -> None:
        self.events: Tally[str] = Tally()  # by source
        self.alerts: Tally[tuple[str, str]] = Tally()  # by (source, message type)
        self.dead_letters: Tally[tuple[str, str]] = Tally()  # by (source, error code)
        self.emitted: Tally[str] = Tally()  # by decision reason
        self.suppressed: Tally[str] = Tally()  # by decision reason
        self.lag_buckets = [0] * (len(LAG_BUCKETS) + 1)  # the last one: above every bound
        self.lag_sum = 0.0

    def observe_lag(self, seconds: float) -> None:
        self.lag_buckets[bisect_left(LAG_BUCKETS, seconds)] += 1
        self.lag_sum += seconds

    def collect(self) -> Iterator[Metric]:
        yield _counter("alertpipe_worker_events", EVENTS_HELP, ["source"], self.events)
        yield _counter(
            "alertpipe_worker_alerts", ALERTS_HELP, ["source", "message_type"], self.alerts
        )
        yield _counter(
            "alertpipe_worker_dead_letters", LETTERS_HELP, ["source", "code"], self.dead_letters
        )
        yield _counter("alertpipe_worker_incident_emitted", EMITTED_HELP, ["reason"], self.emitted)
        yield _counter(
            "alertpipe_worker_incident_suppressed", SUPPRESSED_HELP, ["reason"], self.suppressed
        )
        counts, total = list(self.lag_buckets), self.lag_sum
        bounds = [*(str(float(b)) for b in LAG_BUCKETS), "+Inf"]
        lag = HistogramMetricFamily("alertpipe_worker_processing_lag_seconds", LAG_HELP)
        lag.add_metric([], list(zip(bounds, accumulate(counts), strict=True)), total)
        yield lag


EVENTS_HELP = "Raw records consumed, by source."
ALERTS_HELP = "Normalized alerts published, by source and message type."
LETTERS_HELP = "Bodies dead-lettered, by source and error code."
EMITTED_HELP = "Alerts emitted by the incident stage, by decision (open, resolve, ...)."
SUPPRESSED_HELP = (
    "Alerts suppressed by the incident stage, by reason (duplicate, redelivery, late, "
    "resolved_again, not_open; replayed: at-least-once only, a stage-1 copy skipped)."
)
LAG_HELP = "From the ingress receiving a webhook to the worker's stage 1 processing it."


def _counter(
    name: str, doc: str, labels: list[str], counts: Mapping[Any, int]
) -> CounterMetricFamily:
    """One family from a snapshot of ``counts`` (keys: a label value, or a tuple of them)."""
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, value in dict(counts).items():
        family.add_metric(list(key) if isinstance(key, tuple) else [key], value)
    return family


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.hot = HotCounts()
        r.register(self.hot)
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

    def count_stage_one(self, result: StageOneResult, now: float) -> None:
        """One raw record's outcome (on the processing loop's thread only)."""
        hot = self.hot
        hot.events[result.source] += 1
        letter = result.dead_letter
        if letter is not None:
            hot.dead_letters[result.source, letter.code] += 1
        for alert in result.alerts:
            hot.alerts[alert.source, alert.message_type] += 1
        if result.envelope is not None:
            hot.observe_lag(max(0.0, now - result.envelope.received_at / 1000))

    def count_decision(self, decision: Decision) -> None:
        counts = self.hot.emitted if decision.emit else self.hot.suppressed
        counts[decision.reason] += 1

    def replace_series(self, gauge: Gauge, values: Mapping[tuple[str, ...], float]) -> None:
        """Set ``gauge`` to exactly ``values`` (label values -> value): series of partitions
        this worker no longer owns disappear instead of keeping their last value."""
        for gone in self._series.get(id(gauge), set()) - set(values):
            gauge.remove(*gone)
        for labels, value in values.items():
            gauge.labels(*labels).set(value)
        self._series[id(gauge)] = set(values)
