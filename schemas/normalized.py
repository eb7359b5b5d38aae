"""The normalized alert (brief §4) and its one codec. Consumers rely on this shape; it is
described by ``normalized-alert.schema.json`` beside this file."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import field
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


def ref_text(topic: str, partition: int, offset: int) -> str:
    """``topic:partition:offset``: how every command prints a record (``ref`` in JSON) and how
    ``alertpipe explain`` takes one."""
    return f"{topic}:{partition}:{offset}"


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


# The RFC 4122 variant bits over the first hex digit of the clock_seq field: 10xx.
_VARIANT = {f"{n:x}": f"{n & 0x3 | 0x8:x}" for n in range(16)}


def alert_id_for(raw: RawRef, index: int) -> str:
    """Deterministic id of the index-th alert mapped from one raw record: the name-based
    (SHA-1) UUID of RFC 4122 §4.3 in ALERT_ID_NAMESPACE, as ``uuid.uuid5`` makes it, without
    its object overhead (``alert_id``)."""
    return alert_id(raw.topic, raw.partition, raw.offset, index)


def alert_id(topic: str, partition: int, offset: int, index: int) -> str:
    """``alert_id_for`` from the parts of the raw record's place. The name is written in one
    bytes format; the version and variant bits are set on the hex digits (digit 12 is the
    version, digit 16 carries the variant): a third faster than editing the digest."""
    name = b"%b%b/%d/%d/%d" % (_NAMESPACE_BYTES, topic.encode(), partition, offset, index)
    h = hashlib.sha1(name).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def incident_key_for(org: str, entity_id: str) -> str:
    """Org names cannot contain '/', so the first '/' always separates org and entity id."""
    return f"{org}/{entity_id}"


def encode_alert(alert: NormalizedAlert) -> bytes:
    """JSON bytes, the fields in their declared order (stage 2 relies on how it ends). orjson
    writes a plain dict in half the time it takes over the slotted dataclasses (~1 µs an
    alert); ``asdict`` would deep-copy ``details``. Tuples are written as lists either way."""
    data = alert_json(alert)
    try:
        return orjson.dumps(data)
    except TypeError:  # integers beyond 64 bits, or nesting past orjson's depth limit
        return dump_json(data)


def new_alert(
    alert_id: str,
    org: str,
    source: str,
    message_type: MessageType,
    entity_id: str,
    entity_display_name: str,
    state_message: str,
    monitoring_tool: str | None,
    hostname: str | None,
    event_time: int,
    received_at: int,
    routing_key: str | None,
    routing: Routing,
    annotations: tuple[Annotation, ...],
    details: dict[str, Any],
    raw: RawRef,
    is_test: bool,
) -> tuple[NormalizedAlert, bytes]:
    """A new alert (``incident_key`` made of ``org`` and ``entity_id``, no duplicates counted)
    and its bytes, ``encode_alert``'s, from the same values: what stage 1 makes of each draft,
    without reading every field back from the record it has just built (~0.5 µs an alert)."""
    incident_key = f"{org}/{entity_id}"  # incident_key_for
    if len(annotations) == 1:  # most alerts: one link (no call)
        a = annotations[0]
        links = [{"kind": a.kind, "title": a.title, "value": a.value}]
    else:
        links = _annotations_json(annotations)
    alert = NormalizedAlert(  # positional, in field order: keywords cost ~1 µs more
        alert_id,
        org,
        source,
        message_type,
        entity_id,
        entity_display_name,
        state_message,
        monitoring_tool,
        hostname,
        event_time,
        received_at,
        routing_key,
        routing,
        incident_key,
        annotations,
        details,
        raw,
        is_test,
    )
    data = {  # alert_json's layout, from the values themselves
        "alert_id": alert_id,
        "org": org,
        "source": source,
        "message_type": message_type,
        "entity_id": entity_id,
        "entity_display_name": entity_display_name,
        "state_message": state_message,
        "monitoring_tool": monitoring_tool,
        "hostname": hostname,
        "event_time": event_time,
        "received_at": received_at,
        "routing_key": routing_key,
        "routing": {
            "requested": routing.requested,
            "reason": routing.reason,
            "teams": routing.teams,
            "rule": routing.rule,
        },
        "incident_key": incident_key,
        "annotations": links,
        "details": details,
        "raw": {"topic": raw.topic, "partition": raw.partition, "offset": raw.offset},
        "is_test": is_test,
        "duplicates_suppressed": 0,
        "schema_version": SCHEMA_VERSION,
    }
    try:
        return alert, orjson.dumps(data)
    except TypeError:  # as encode_alert
        return alert, dump_json(data)


def alert_json(alert: NormalizedAlert) -> dict[str, Any]:
    """The alert as JSON data, shallow: ``details`` is the alert's own dict, not a copy."""
    routing, raw = alert.routing, alert.raw
    return {
        "alert_id": alert.alert_id,
        "org": alert.org,
        "source": alert.source,
        "message_type": alert.message_type,
        "entity_id": alert.entity_id,
        "entity_display_name": alert.entity_display_name,
        "state_message": alert.state_message,
        "monitoring_tool": alert.monitoring_tool,
        "hostname": alert.hostname,
        "event_time": alert.event_time,
        "received_at": alert.received_at,
        "routing_key": alert.routing_key,
        "routing": {
            "requested": routing.requested,
            "reason": routing.reason,
            "teams": routing.teams,
            "rule": routing.rule,
        },
        "incident_key": alert.incident_key,
        # (most alerts have none or one: no comprehension and its frame for those)
        "annotations": _annotations_json(alert.annotations),
        "details": alert.details,
        "raw": {"topic": raw.topic, "partition": raw.partition, "offset": raw.offset},
        "is_test": alert.is_test,
        "duplicates_suppressed": alert.duplicates_suppressed,
        "schema_version": alert.schema_version,
    }


def _annotations_json(annotations: tuple[Annotation, ...]) -> list[dict[str, str]]:
    if not annotations:
        return []
    if len(annotations) == 1:
        a = annotations[0]
        return [{"kind": a.kind, "title": a.title, "value": a.value}]
    return [{"kind": a.kind, "title": a.title, "value": a.value} for a in annotations]


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


# Every alert stage 2 delivers ends with these two fields (``alert_json``'s order), so the
# maintenance stamp goes in front of them and the rest of the bytes stay as they were. The
# last occurrence is the top-level one: nested fields (details) come before it, and in JSON
# text `,"` never occurs inside a string.
_MAINTENANCE_BEFORE = b',"duplicates_suppressed":'


def with_maintenance(value: bytes, maintenance: dict[str, Any]) -> bytes:
    """``value`` (a delivered alert) with ``maintenance`` ({id, reason, until}) added before
    ``duplicates_suppressed``; an alert not in that form is parsed and written again."""
    at = value.rfind(_MAINTENANCE_BEFORE)
    stamp = dump_json(maintenance)
    if at < 0:
        data = orjson.loads(value)
        data["maintenance"] = maintenance
        return dump_json(data)
    return b'%b,"maintenance":%b%b' % (value[:at], stamp, value[at:])
