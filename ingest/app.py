"""The ingress ASGI app: authenticate, bound, record verbatim in Kafka, then answer.

A 2xx means Kafka acknowledged the raw record (acks=all). Everything the app talks to (sink,
key store, clock, ids) is injected, so tests run it in-process with httpx.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Protocol

from ingest.asgi import (
    BodyTimeout,
    BodyTooLarge,
    ClientDisconnected,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    send_bytes,
    send_json,
)
from ingest.keys import KeyTable
from ingest.metrics import IngressMetrics
from ingest.paths import PathRejected, build_prefix_table, match_service_path
from ingest.ratelimit import RateLimiter
from ingest.settings import IngressSettings
from ingest.sink import RawSink, SinkUnavailable
from ingest.victorops import check_generic_body
from schemas.raw import RawHeaders, raw_record_key
from schemas.registry import SourceInfo

log = logging.getLogger("alertpipe.ingest")
access_log = logging.getLogger("alertpipe.ingest.access")

NOT_FOUND = {"result": "failure", "message": "Not found"}
MAX_USER_AGENT = 512


class KeySource(Protocol):
    """What the app needs of the key store: a table, and whether it is complete yet."""

    table: KeyTable
    caught_up: bool
    problem: str | None

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class IngressApp:
    settings: IngressSettings
    sources: dict[str, SourceInfo]
    sink: RawSink
    keys: KeySource
    metrics: IngressMetrics = field(default_factory=IngressMetrics)
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex

    def __post_init__(self) -> None:
        self.prefixes = build_prefix_table(self.sources)
        self.limiter = RateLimiter(self.settings.rate_limit_per_s, self.settings.rate_limit_burst)
        self.openapi = resources.files("ingest").joinpath("openapi.json").read_bytes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.sink.start()
                await self.keys.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.sink.stop()  # flushes in-flight records
                await self.keys.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @property
    def problem(self) -> str | None:
        return self.sink.problem or self.keys.problem

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path.startswith("/integrations/"):
            if method != "POST":
                await send_json(
                    send, 405, {"result": "failure", "message": "Use POST"}, [(b"allow", b"POST")]
                )
                return
            await self._webhook(scope, receive, send)
            return
        if path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
            if method not in ("GET", "HEAD"):
                await send_json(
                    send,
                    405,
                    {"result": "failure", "message": "Use GET"},
                    [(b"allow", b"GET, HEAD")],
                )
            elif path == "/healthz":
                await send_json(send, 200, {"status": "ok"})
            elif path == "/readyz":
                problem = self.problem
                status = 200 if problem is None else 503
                await send_json(send, status, {"ready": problem is None, "problem": problem})
            elif path == "/metrics":
                await send_bytes(
                    send, 200, self.metrics.render(), b"text/plain; version=0.0.4; charset=utf-8"
                )
            else:
                await send_bytes(send, 200, self.openapi, b"application/json")
            return
        await send_json(send, 404, NOT_FOUND)

    async def _webhook(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = self.monotonic()
        request_id = self.new_id()
        self.metrics.in_flight.inc()
        source, status = "unknown", 500
        try:
            source, status = await self._handle(scope, receive, send, request_id)
        finally:
            self.metrics.in_flight.dec()
            self.metrics.requests.labels(source, str(status)).inc()
            elapsed = self.monotonic() - started
            self.metrics.request_seconds.labels(source).observe(elapsed)
            if self.settings.access_log:  # the path holds the key: never logged
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "source": source,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    },
                )

    async def _reject(
        self,
        send: Send,
        status: int,
        reason: str,
        message: str,
        request_id: str,
        headers: list[tuple[bytes, bytes]] | None = None,
        **extra: object,
    ) -> int:
        self.metrics.rejected.labels(reason).inc()
        payload = {"result": "failure", "message": message, "request_id": request_id, **extra}
        await send_json(
            send, status, payload, [(b"x-request-id", request_id.encode()), *(headers or [])]
        )
        return status

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, request_id: str
    ) -> tuple[str, int]:
        route = match_service_path(scope.get("raw_path") or scope["path"].encode(), self.prefixes)
        if isinstance(route, PathRejected):
            reason = "not_found" if route.status == 404 else "bad_routing_key"
            return "unknown", await self._reject(
                send, route.status, reason, route.message, request_id
            )
        source = route.source
        retry_after = [(b"retry-after", str(self.settings.retry_after_s).encode())]
        if not self.keys.caught_up:
            return source, await self._reject(
                send,
                503,
                "starting",
                "Starting up: integration keys not loaded yet",
                request_id,
                retry_after,
            )
        integration = self.keys.table.lookup(route.integration_key, source)
        if integration is None:
            # Same answer for unknown, revoked and other-source keys, and for unknown sources.
            return source, await self._reject(send, 404, "unknown_key", "Not found", request_id)
        content_type = (header(scope, b"content-type") or b"").decode("latin-1")
        media = content_type.split(";", 1)[0].strip().lower()
        allowed = self.sources[source].content_types
        if (
            media
            and media not in allowed
            and not (media.endswith("+json") and "application/json" in allowed)
        ):
            return source, await self._reject(
                send,
                415,
                "content_type",
                f"Unsupported content type {media!r} for {source}; "
                f"use {' or '.join(sorted(allowed))}",
                request_id,
            )
        length = header(scope, b"content-length")
        limit = self.settings.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            return source, await self._reject(
                send, 413, "too_large", f"Body larger than {limit} bytes", request_id
            )
        wait = self.limiter.acquire(integration.key_id, self.monotonic())
        if wait > 0:
            return source, await self._reject(
                send,
                429,
                "rate_limited",
                f"Rate limit exceeded: {self.settings.rate_limit_per_s:g} requests/s "
                f"(burst {self.settings.rate_limit_burst}) per integration key",
                request_id,
                [(b"retry-after", str(max(1, round(wait + 0.5))).encode())],
                limit={
                    "per_second": self.settings.rate_limit_per_s,
                    "burst": self.settings.rate_limit_burst,
                },
            )
        try:
            body = await read_body(receive, limit, self.settings.body_timeout_s)
        except BodyTooLarge:
            return source, await self._reject(
                send, 413, "too_large", f"Body larger than {limit} bytes", request_id
            )
        except BodyTimeout:
            return source, await self._reject(
                send,
                408,
                "body_timeout",
                f"Body not received within {self.settings.body_timeout_s:g}s",
                request_id,
                [(b"connection", b"close")],
            )
        except ClientDisconnected:
            self.metrics.rejected.labels("client_disconnected").inc()
            return source, 499

        verdict = check_generic_body(body, self.new_id()) if source == "generic" else None
        client = scope.get("client")
        user_agent = (header(scope, b"user-agent") or b"").decode("latin-1")[:MAX_USER_AGENT]
        raw = RawHeaders(
            source=source,
            org=integration.org,
            key_id=integration.key_id,
            routing_key=route.routing_key,
            content_type=content_type,
            received_at=int(self.clock() * 1000),
            request_id=request_id,
            remote_addr=client[0] if client else "",
            user_agent=user_agent,
            entity_id=verdict.entity_id if verdict else None,
        )
        produce_started = self.monotonic()
        try:
            await self.sink.send(
                self.settings.kafka.topics.raw,
                raw_record_key(integration.org, route.routing_key),
                body,
                raw.to_kafka(),
            )
        except SinkUnavailable as exc:
            log.warning(
                "503 for request %s (%s, key %s): %s", request_id, source, integration.key_id, exc
            )
            return source, await self._reject(
                send,
                503,
                "kafka_unavailable",
                "Temporarily unable to accept alerts; retry later",
                request_id,
                retry_after,
            )
        self.metrics.produce_seconds.observe(self.monotonic() - produce_started)
        rid = [(b"x-request-id", request_id.encode())]
        if verdict is None:
            await send_json(send, 200, {"result": "success", "request_id": request_id}, rid)
            return source, 200
        if verdict.failure is not None:  # recorded raw all the same: never dropped silently
            await send_json(send, 400, {"result": "failure", "message": verdict.failure}, rid)
            return source, 400
        await send_json(send, 200, {"result": "success", "entity_id": verdict.entity_id}, rid)
        return source, 200
