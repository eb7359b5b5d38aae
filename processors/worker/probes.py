"""The worker's HTTP endpoint: ``/metrics`` for Prometheus, ``/healthz`` and ``/readyz`` for
Kubernetes probes (the ingress serves the same three paths).

A small threaded WSGI server beside the processing loop. It only reads a ``WorkerHealth`` that
the side thread's sampler updates (``processors.worker.observe``) from what the processing loop
reports; answering never waits on the loop, so a stuck loop shows up as a stale heartbeat
instead of a hanging probe.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from schemas.errors import UsageError

log = logging.getLogger("alertpipe.worker")

# /healthz fails once the event loop has not sampled for this long (samples come every
# processors.worker.observe.SAMPLE_INTERVAL_S): a loop blocked this long is not processing either.
STALE_AFTER_S = 60.0

StartResponse = Callable[..., Any]


@dataclass
class WorkerHealth:
    """Written by the event loop, read by the HTTP threads (single attribute reads and writes:
    no lock needed). ``heartbeat`` is ``time.monotonic()`` of the last sample, None before
    the first; ``not_ready`` says why the worker is not ready, None when it is."""

    heartbeat: float | None = None
    not_ready: str | None = "starting"


def probe(path: str, health: WorkerHealth, now: float) -> tuple[int, dict[str, Any]] | None:
    """The answer to a probe path (status, JSON body), or None for any other path."""
    if path == "/healthz":
        if health.heartbeat is not None and now - health.heartbeat > STALE_AFTER_S:
            silent = now - health.heartbeat
            return 503, {"status": "stalled", "problem": f"event loop silent for {silent:.0f}s"}
        return 200, {"status": "ok"}
    if path == "/readyz":
        if health.not_ready is not None:
            return 503, {"status": "not ready", "problem": health.not_ready}
        return 200, {"status": "ready"}
    return None


def wsgi_app(
    registry: CollectorRegistry,
    health: WorkerHealth,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        answer = probe(path, health, clock())
        status, body = answer if answer is not None else (404, {"status": "not found"})
        payload = json.dumps(body).encode()
        reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # stdlib's signature
        """Probes every few seconds would flood the log."""


class MetricsPortUnavailable(UsageError):
    """The worker's metrics port cannot be bound (in use, or not an address of this host)."""


def start_endpoint(host: str, port: int, registry: CollectorRegistry, health: WorkerHealth) -> None:
    """Serve in a daemon thread. A port that cannot be bound stops the worker before it takes
    partitions: a worker without its /healthz and /readyz would be restarted by its probes, or
    run unseen. ALERTPIPE_WORKER_METRICS_PORT=0 runs it without the endpoint."""

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    try:
        server = make_server(
            host, port, wsgi_app(registry, health), Server, handler_class=_QuietHandler
        )
    except OSError as exc:
        raise MetricsPortUnavailable(
            f"the worker's metrics port {host}:{port} cannot be bound ({exc.strerror or exc}): "
            "set ALERTPIPE_WORKER_METRICS_PORT to a free port, or 0 for no metrics endpoint"
        ) from exc
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    log.info("metrics on http://%s:%d/metrics (also /healthz, /readyz)", host, port)
