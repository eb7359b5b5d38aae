"""Stage 1 as one pure function: a raw record in, normalized alerts or one dead letter out.

parse -> validate -> map -> route -> normalize -> encode. Every failure becomes a dead letter
with a code (policy: ``processors.deadletter``); nothing here raises for any body, so no body
can stop a partition. The worker, replay and explain all call this same function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import field
from types import MappingProxyType
from typing import Any

from processors.deadletter import DeadLetter, from_exception
from processors.draft import AlertDraft, MapContext
from processors.parse import parse_body
from processors.routing import RoutingConfig, route_alert
from processors.validate import SchemaSet, schema_set, validate
from schemas.normalized import (
    NormalizedAlert,
    RawRef,
    alert_id_for,
    encode_alert,
    incident_key_for,
)
from schemas.raw import RawHeaders
from schemas.records import record


@record
class RawInput:
    """One record of the raw topic, as the consumer saw it."""

    value: bytes
    headers: list[tuple[str, bytes]]
    topic: str
    partition: int
    offset: int

    @property
    def ref(self) -> RawRef:
        return RawRef(self.topic, self.partition, self.offset)


@record
class StageOneResult:
    source: str  # "unknown" when the envelope could not be read
    alerts: tuple[NormalizedAlert, ...] = ()
    encoded: tuple[bytes, ...] = ()  # the alerts as they go on the wire, same order
    # Redelivery identity per alert (same order): "event:..." or "body:..." (processors.incidents)
    fingerprints: tuple[str, ...] = ()
    dead_letter: DeadLetter | None = None
    envelope: RawHeaders | None = None
    parsed: Any = field(default=None, repr=False)


def process_raw(
    raw: RawInput, routes: Mapping[str, RoutingConfig], schemas: SchemaSet | None = None
) -> StageOneResult:
    """``schemas``: the compiled sources; None for the built-in ones."""
    try:
        envelope = RawHeaders.from_kafka(raw.headers)
    except ValueError as exc:
        return StageOneResult("unknown", dead_letter=DeadLetter("invalid_envelope", str(exc)))
    source = envelope.source
    compiled = schemas or schema_set()
    mapping = compiled.mappings.get(source)
    if mapping is None:
        return StageOneResult(
            source,
            envelope=envelope,
            dead_letter=DeadLetter("unknown_source", f"no mapping for source {source!r}"),
        )
    data = parse_body(raw.value, envelope.content_type)
    if isinstance(data, DeadLetter):
        return StageOneResult(source, envelope=envelope, dead_letter=data)
    letter = validate(source, data, compiled)
    if letter is not None:
        return StageOneResult(source, envelope=envelope, dead_letter=letter, parsed=data)
    try:
        ctx = MapContext(received_at=envelope.received_at, entity_id_header=envelope.entity_id)
        drafts = mapping(data, ctx)
        ref, config = raw.ref, routes.get(envelope.org)
        alerts = tuple([normalize(d, i, envelope, ref, config) for i, d in enumerate(drafts)])
        encoded = tuple([encode_alert(a) for a in alerts])
        prints = tuple([fingerprint(d, i, raw.value) for i, d in enumerate(drafts)])
    except Exception as exc:  # the error policy: a mapping bug dead-letters this body only
        return StageOneResult(
            source, envelope=envelope, dead_letter=from_exception(exc), parsed=data
        )
    return StageOneResult(source, alerts, encoded, prints, envelope=envelope, parsed=data)


NO_FIELDS: Mapping[str, Any] = MappingProxyType({})


def fingerprint(draft: AlertDraft, index: int, body: bytes) -> str:
    """The source's event id when it has one; else the body's content (and the index)."""
    if draft.source_event_id is not None:
        return f"event:{draft.source_event_id}:{index}"
    return f"body:{hashlib.blake2b(body, digest_size=16).hexdigest()}:{index}"


def normalize(
    draft: AlertDraft,
    index: int,
    envelope: RawHeaders,
    ref: RawRef,
    routes: RoutingConfig | None,
) -> NormalizedAlert:
    # what routing rules match on (none to match without rules)
    fields = (
        {
            "source": envelope.source,
            "message_type": draft.message_type,
            "entity_id": draft.entity_id,
            "entity_display_name": draft.entity_display_name,
            "details": draft.details,
        }
        if routes is not None and routes.rules
        else NO_FIELDS
    )
    decision = route_alert(routes, envelope.routing_key, fields)
    return NormalizedAlert(
        alert_id=alert_id_for(ref, index),
        org=envelope.org,
        source=envelope.source,
        message_type=draft.message_type,
        entity_id=draft.entity_id,
        entity_display_name=draft.entity_display_name,
        state_message=draft.state_message,
        monitoring_tool=draft.monitoring_tool,
        hostname=draft.hostname,
        event_time=draft.event_time or envelope.received_at,
        received_at=envelope.received_at,
        routing_key=decision.routing_key,
        routing=decision.routing,
        incident_key=incident_key_for(envelope.org, draft.entity_id),
        annotations=draft.annotations,
        details=draft.details,
        raw=ref,
        is_test=draft.is_test,
    )
