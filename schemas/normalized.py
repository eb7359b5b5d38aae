"""The normalized alert (brief §4) and its one codec. Consumers rely on this shape; it is
described by ``normalized-alert.schema.json`` beside this file."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, field
from typing import Any, Literal

import orjson

from schemas.records import record

SCHEMA_VERSION = 1
MessageType = Literal["CRITICAL", "WARNING", "ACKNOWLEDGEMENT", "INFO", "RECOVERY"]
MESSAGE_TYPES: tuple[MessageType, ...] = (
    "CRITICAL",
    "WARNING",
    "ACKNOWLEDGEMENT",
    "INFO",
    "RECOVERY",
)
# Fixed namespace: alert ids must be the same in every process and every replay.
ALERT_ID_NAMESPACE = uuid.UUID("6f1c8a52-3f0e-4d8e-9a51-2b7f4c0d9e11")
_NAMESPACE_BYTES = ALERT_ID_NAMESPACE.bytes


@record
class Annotation:
    kind: Literal["url", "note", "image"]
    title: str
    value: str


@record
class Routing:
    requested: str
    reason: str
    teams: tuple[str, ...]
    rule: str | None = None


@record
class RawRef:
    topic: str
    partition: int
    offset: int


@record
class NormalizedAlert:
    alert_id: str
    org: str
    source: str
    message_type: MessageType
    entity_id: str
    entity_display_name: str
    state_message: str
    monitoring_tool: str | None
    hostname: str | None
    event_time: int
    received_at: int
    routing_key: str | None
    routing: Routing
    incident_key: str
    annotations: tuple[Annotation, ...]
    details: dict[str, Any]
    raw: RawRef
    is_test: bool = False
    duplicates_suppressed: int = 0
    schema_version: int = field(default=SCHEMA_VERSION)


def alert_id_for(raw: RawRef, index: int) -> str:
    """Deterministic id of the index-th alert mapped from one raw record: the name-based
    (SHA-1) UUID of RFC 4122 §4.3 in ALERT_ID_NAMESPACE, as ``uuid.uuid5`` makes it, without
    its object overhead (a third of the cost)."""
    name = f"{raw.topic}/{raw.partition}/{raw.offset}/{index}".encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def incident_key_for(org: str, entity_id: str) -> str:
    """Org names cannot contain '/', so the first '/' always separates org and entity id."""
    return f"{org}/{entity_id}"


def encode_alert(alert: NormalizedAlert) -> bytes:
    """JSON bytes; orjson serializes the dataclasses directly (``asdict`` would deep-copy
    ``details`` on every alert, which dominated the pipeline's cost)."""
    try:
        return orjson.dumps(alert)
    except TypeError:  # integers beyond 64 bits, or nesting past orjson's depth limit
        return dump_json(asdict(alert))


def dump_json(data: Any) -> bytes:
    """Compact JSON bytes; the standard library writes what orjson refuses (integers beyond
    64 bits, nesting past its depth limit)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def decode_alert(value: bytes) -> dict[str, Any]:
    """The alert as plain JSON data (consumers and tests; no validation here)."""
    data: dict[str, Any] = json.loads(value)
    return data
