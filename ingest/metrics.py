"""Prometheus metrics of the ingress. Labels never carry keys or paths, only the source name,
status code and reason."""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class IngressMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "alertpipe_ingress_requests",
            "Webhook requests answered, by source and HTTP status.",
            ["source", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "alertpipe_ingress_request_seconds",
            "Time from request start to answer.",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.produce_seconds = Histogram(
            "alertpipe_ingress_produce_seconds",
            "Time for Kafka to acknowledge a raw record.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "alertpipe_ingress_in_flight",
            "Webhook requests being handled now.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.rejected = Counter(
            "alertpipe_ingress_rejected", "Requests refused, by reason.", ["reason"], registry=r
        )

    def render(self) -> bytes:
        """Exposition text; across worker processes when PROMETHEUS_MULTIPROC_DIR is set."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
            return generate_latest(combined)
        return generate_latest(self.registry)
