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
from typing import Protocol

import orjson

from ingest.admission import (
    Admission,
    Gate,
    ReadBody,
    Rejection,
    RequestHead,
    admit,
    endpoint_table,
    too_large,
)
from ingest.answers import Answer, accepted, rejection_answer
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
from ingest.openapidoc import openapi_document
from ingest.paths import build_prefix_table
from ingest.ratelimit import RateLimiter
from ingest.settings import IngressSettings
from ingest.sink import RawSink, SinkUnavailable
from ingest.snsgate import SnsGate, refusal
from ingest.snsmessage import SnsMessage
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
        self.endpoints = endpoint_table(self.sources)
        self.limiter = RateLimiter(self.settings.rate_limit_per_s, self.settings.rate_limit_burst)
        # the sources this process serves, operator folders included (ingest.openapidoc)
        self.openapi = orjson.dumps(openapi_document(self.sources))
        self.sns = SnsGate(self.settings.sns, self.clock, self.monotonic)

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
        if path.startswith("/integrations/") or path.rstrip("/").encode() in self.endpoints:
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

    async def _answer(self, send: Send, answer: Answer) -> int:
        await send_bytes(send, answer.status, answer.body, answer.content_type, [*answer.headers])
        return answer.status

    async def _refuse(self, send: Send, rejection: Rejection, request_id: str) -> int:
        self.metrics.rejected.labels(rejection.reason).inc()
        return await self._answer(send, rejection_answer(rejection, request_id))

    def _gate(self) -> Gate:
        settings = self.settings
        return Gate(
            sources=self.sources,
            prefixes=self.prefixes,
            endpoints=self.endpoints,
            keys=self.keys.table,
            keys_loaded=self.keys.caught_up,
            rate_wait=lambda key_id: self.limiter.acquire(key_id, self.monotonic()),
            max_body_bytes=settings.max_body_bytes,
            retry_after_s=settings.retry_after_s,
            rate_limit_per_s=settings.rate_limit_per_s,
            rate_limit_burst=settings.rate_limit_burst,
            new_id=self.new_id,
        )

    async def _read(
        self, receive: Receive, info: SourceInfo
    ) -> bytes | Rejection | ClientDisconnected:
        limit, timeout = self.settings.max_body_bytes, self.settings.body_timeout_s
        try:
            return await read_body(receive, limit, timeout)
        except BodyTooLarge:
            return too_large(info, limit)
        except BodyTimeout:
            return Rejection(
                info.name,
                408,
                "body_timeout",
                f"Body not received within {timeout:g}s",
                ((b"connection", b"close"),),
                protocol=info.protocol,
            )
        except ClientDisconnected as gone:
            return gone

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, request_id: str
    ) -> tuple[str, int]:
        content_type = (header(scope, b"content-type") or b"").decode("latin-1")
        raw_path = scope.get("raw_path") or scope["path"].encode()
        head = RequestHead(raw_path, content_type, header(scope, b"content-length"))
        gate = self._gate()
        decision = admit(head, gate)
        if isinstance(decision, Rejection):
            return decision.source, await self._refuse(send, decision, request_id)
        info = decision.source
        body = await self._read(receive, info)
        if isinstance(body, ClientDisconnected):
            self.metrics.rejected.labels("client_disconnected").inc()
            return info.name, 499
        if isinstance(body, Rejection):
            return info.name, await self._refuse(send, body, request_id)
        if isinstance(decision, ReadBody):  # the key is in the body
            decision = admit(head, gate, body)
            if isinstance(decision, Rejection):
                return info.name, await self._refuse(send, decision, request_id)
            assert isinstance(decision, Admission)  # admit asks for the body only once
        sns: SnsMessage | None = None
        if info.protocol == "amazon_sns":  # the signature is part of the authentication
            kind = header(scope, b"x-amz-sns-message-type")
            checked = await self.sns.check(body, decision.integration.topic_arns, kind)
            if not isinstance(checked, SnsMessage):
                return info.name, await self._refuse(send, refusal(info.name, checked), request_id)
            sns = checked
        return info.name, await self._record(scope, send, decision, body, request_id, sns)

    async def _record(
        self,
        scope: Scope,
        send: Send,
        admission: Admission,
        body: bytes,
        request_id: str,
        sns: SnsMessage | None = None,
    ) -> int:
        """Write the raw record; answer once Kafka has it (or 503). An SNS subscription
        confirmation is confirmed once it is recorded."""
        info, integration = admission.source, admission.integration
        done = accepted(admission, body, request_id, self.new_id())
        client = scope.get("client")
        user_agent = (header(scope, b"user-agent") or b"").decode("latin-1")[:MAX_USER_AGENT]
        raw = RawHeaders(
            source=info.name,
            org=integration.org,
            key_id=integration.key_id,
            routing_key=admission.routing_key,
            content_type=(header(scope, b"content-type") or b"").decode("latin-1"),
            received_at=int(self.clock() * 1000),
            request_id=request_id,
            remote_addr=client[0] if client else "",
            user_agent=user_agent,
            entity_id=done.entity_id,
        )
        produce_started = self.monotonic()
        try:
            await self.sink.send(
                self.settings.kafka.topics.raw,
                raw_record_key(integration.org, admission.routing_key),
                body,
                raw.to_kafka(),
            )
        except SinkUnavailable as exc:
            log.warning(
                "503 for request %s (%s, key %s): %s",
                request_id,
                info.name,
                integration.key_id,
                exc,
            )
            unavailable = Rejection(
                info.name,
                503,
                "kafka_unavailable",
                "Temporarily unable to accept alerts; retry later",
                ((b"retry-after", str(self.settings.retry_after_s).encode()),),
                protocol=info.protocol,
            )
            return await self._refuse(send, unavailable, request_id)
        self.metrics.produce_seconds.observe(self.monotonic() - produce_started)
        if sns is not None and sns.type == "SubscriptionConfirmation":
            return await self._answer(send, await self.sns.confirm(sns, admission, request_id))
        return await self._answer(send, done.answer)
