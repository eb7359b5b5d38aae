"""Whether the ingress takes a request: one pure function, ``admit``, over the request's head
(and, for a source whose integration key is in the body, its body) and what the ingress
knows. It answers an ``Admission``, a ``Rejection`` (status, reason, message), or
``ReadBody`` (PagerDuty: read the body, then ask again with it).

The checks, in order, for a key in the URL: route (404, or 400 for a bad routing key), keys
loaded (503), key (404), content type (415), declared length (413), rate (429). For a key in
the body: route, keys loaded, content type, declared length, then with the body: a usable
key (400), a known key (400, PagerDuty's "Invalid routing key"), rate (429).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ingest.keys import Integration, KeyTable
from ingest.pagerduty import PagerDutyEvent, read_event
from ingest.paths import PathRejected, match_service_path
from schemas.registry import SourceInfo

UNKNOWN_KEY = "Invalid routing key"  # what PagerDuty answers (400) for a key it does not know


@dataclass(frozen=True)
class RequestHead:
    raw_path: bytes  # still percent-encoded
    content_type: str  # as received, "" when absent
    content_length: bytes | None


@dataclass(frozen=True)
class Gate:
    """What admission consults. ``rate_wait(key_id)`` takes a token of that key's bucket and
    answers the seconds to wait (0: admitted); it is the one stateful thing here."""

    sources: Mapping[str, SourceInfo]
    prefixes: Mapping[tuple[bytes, ...], str]
    endpoints: Mapping[bytes, str]
    keys: KeyTable
    keys_loaded: bool
    rate_wait: Callable[[str], float]
    max_body_bytes: int
    retry_after_s: int
    rate_limit_per_s: float
    rate_limit_burst: int
    new_id: Callable[[], str]


@dataclass(frozen=True)
class Admission:
    source: SourceInfo
    integration: Integration
    routing_key: str  # as received, or the integration's for a key in the body
    event: PagerDutyEvent | None = None  # read from the body, for a key in the body


@dataclass(frozen=True)
class Rejection:
    source: str  # "unknown" before the route is known
    status: int
    reason: str  # the metric label
    message: str
    headers: tuple[tuple[bytes, bytes], ...] = ()
    extra: Mapping[str, object] = field(default_factory=dict)
    errors: tuple[str, ...] = ()  # PagerDuty's error list
    protocol: str = "alertpipe"  # how it is answered


@dataclass(frozen=True)
class ReadBody:
    source: SourceInfo


def endpoint_table(sources: Mapping[str, SourceInfo]) -> dict[bytes, str]:
    return {info.endpoint.encode(): info.name for info in sources.values() if info.endpoint}


def _rate(gate: Gate, info: SourceInfo, integration: Integration) -> Rejection | None:
    wait = gate.rate_wait(integration.key_id)
    if wait <= 0:
        return None
    return Rejection(
        info.name,
        429,
        "rate_limited",
        f"Rate limit exceeded: {gate.rate_limit_per_s:g} requests/s "
        f"(burst {gate.rate_limit_burst}) per integration key",
        ((b"retry-after", str(max(1, round(wait + 0.5))).encode()),),
        {"limit": {"per_second": gate.rate_limit_per_s, "burst": gate.rate_limit_burst}},
        protocol=info.protocol,
    )


def _head_checks(head: RequestHead, gate: Gate, info: SourceInfo) -> Rejection | None:
    """Content type and declared length."""
    media = head.content_type.split(";", 1)[0].strip().lower()
    allowed = info.content_types
    if (
        media
        and media not in allowed
        and not (media.endswith("+json") and "application/json" in allowed)
    ):
        return Rejection(
            info.name,
            415,
            "content_type",
            f"Unsupported content type {media!r} for {info.name}; "
            f"use {' or '.join(sorted(allowed))}",
            protocol=info.protocol,
        )
    length, limit = head.content_length, gate.max_body_bytes
    if length is not None and length.isdigit() and int(length) > limit:
        return too_large(info, limit)
    return None


def too_large(info: SourceInfo, limit: int) -> Rejection:
    return Rejection(
        info.name, 413, "too_large", f"Body larger than {limit} bytes", protocol=info.protocol
    )


def admit(
    head: RequestHead, gate: Gate, body: bytes | None = None
) -> Admission | Rejection | ReadBody:
    """``body``: None on the first call; the body read after ``ReadBody``."""
    endpoint = gate.endpoints.get(head.raw_path.rstrip(b"/") or b"/")
    if endpoint is not None:
        return _admit_body_key(head, gate, gate.sources[endpoint], body)
    route = match_service_path(head.raw_path, gate.prefixes)
    if isinstance(route, PathRejected):
        reason = "not_found" if route.status == 404 else "bad_routing_key"
        return Rejection("unknown", route.status, reason, route.message)
    info = gate.sources[route.source]
    if not gate.keys_loaded:
        return _starting(gate, info)
    integration = gate.keys.lookup(route.integration_key, info.key_sources)
    if integration is None:
        # Same answer for unknown, revoked and other-source keys, and for unknown sources.
        return Rejection(info.name, 404, "unknown_key", "Not found")
    rejected = _head_checks(head, gate, info) or _rate(gate, info, integration)
    return rejected or Admission(info, integration, route.routing_key)


def _starting(gate: Gate, info: SourceInfo) -> Rejection:
    return Rejection(
        info.name,
        503,
        "starting",
        "Starting up: integration keys not loaded yet",
        ((b"retry-after", str(gate.retry_after_s).encode()),),
        protocol=info.protocol,
    )


def _admit_body_key(
    head: RequestHead, gate: Gate, info: SourceInfo, body: bytes | None
) -> Admission | Rejection | ReadBody:
    if not gate.keys_loaded:
        return _starting(gate, info)
    if body is None:
        return _head_checks(head, gate, info) or ReadBody(info)
    event = read_event(body, info.protocol == "pagerduty_change", gate.new_id())
    if event.key is None:  # not authenticated: nothing is recorded
        return Rejection(info.name, 400, "invalid_event", "Event object is invalid",
                         errors=event.errors, protocol=info.protocol)  # fmt: skip
    integration = gate.keys.lookup(event.key, info.key_sources)
    if integration is None:
        return Rejection(info.name, 400, "unknown_key", UNKNOWN_KEY, protocol=info.protocol)
    rejected = _rate(gate, info, integration)
    return rejected or Admission(info, integration, integration.routing_key or "", event)
