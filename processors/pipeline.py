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
from processors.routing import RouteDecision, RoutingConfig, route_alert, route_without_rules
from processors.validate import SchemaSet, schema_set, validate
from schemas.normalized import (
    NormalizedAlert,
    RawRef,
    alert_id,
    new_alert,
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
    embedded, check = compiled.checks[source]
    data = parse_body(raw.value, envelope.content_type, embedded)
    if isinstance(data, DeadLetter):
        return StageOneResult(source, envelope=envelope, dead_letter=data)
    try:  # the validator itself: ``validate`` (same verdict) only names what is wrong
        valid = check.is_valid(data)
    except ValueError:
        valid = False
    if not valid:
        letter = validate(source, data, compiled)
        if letter is not None:
            return StageOneResult(source, envelope=envelope, dead_letter=letter, parsed=data)
    try:
        drafts = mapping(data, MapContext(envelope.received_at, envelope.entity_id))
        ref, config = RawRef(raw.topic, raw.partition, raw.offset), routes.get(envelope.org)
        # Without rules the decision depends on the envelope only: one for the whole body.
        shared = (
            None
            if config is not None and config.rules
            else route_without_rules(envelope.org, config, envelope.routing_key)
        )
        if len(drafts) == 1:  # nearly every body: no loop, no lists
            alert, text = normalized(drafts[0], 0, envelope, ref, config, shared)
            alerts: tuple[NormalizedAlert, ...] = (alert,)
            encoded: tuple[bytes, ...] = (text,)
        else:
            many, texts = [], []
            for index, draft in enumerate(drafts):  # one loop: no comprehension frames
                alert, text = normalized(draft, index, envelope, ref, config, shared)
                many.append(alert)
                texts.append(text)
            alerts, encoded = tuple(many), tuple(texts)
        prints = fingerprints(drafts, raw.value)
    except Exception as exc:  # the error policy: a mapping bug dead-letters this body only
        return StageOneResult(
            source, envelope=envelope, dead_letter=from_exception(exc), parsed=data
        )
    # positional (dead_letter None), as in normalize: keywords cost more per call
    return StageOneResult(source, alerts, encoded, prints, None, envelope, data)


NO_FIELDS: Mapping[str, Any] = MappingProxyType({})


def body_hash(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def fingerprints(drafts: list[AlertDraft], body: bytes) -> tuple[str, ...]:
    """The redelivery identity of each draft: the source's event id when it has one; else the
    body's content (and the index). The body is hashed once however many alerts it holds."""
    if len(drafts) == 1:  # nearly every body
        event_id = drafts[0].source_event_id
        if event_id is not None:
            return (f"event:{event_id}:0",)
        return (f"body:{body_hash(body)}:0",)
    digest = None
    out = []
    for index, draft in enumerate(drafts):
        if draft.source_event_id is not None:
            out.append(f"event:{draft.source_event_id}:{index}")
        else:
            digest = digest or body_hash(body)
            out.append(f"body:{digest}:{index}")
    return tuple(out)


def normalize(
    draft: AlertDraft,
    index: int,
    envelope: RawHeaders,
    ref: RawRef,
    routes: RoutingConfig | None,
    decision: RouteDecision | None = None,
) -> NormalizedAlert:
    """``decision``: the routing decision when it is already known (no rules to match)."""
    return normalized(draft, index, envelope, ref, routes, decision)[0]


def normalized(
    draft: AlertDraft,
    index: int,
    envelope: RawHeaders,
    ref: RawRef,
    routes: RoutingConfig | None,
    decision: RouteDecision | None = None,
) -> tuple[NormalizedAlert, bytes]:
    """The alert of ``draft`` and its bytes (``schemas.normalized.encode_alert``'s)."""
    if decision is None:
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
    received_at = envelope.received_at
    return new_alert(
        alert_id(ref.topic, ref.partition, ref.offset, index),
        envelope.org,
        envelope.source,
        draft.message_type,
        draft.entity_id,
        draft.entity_display_name,
        draft.state_message,
        draft.monitoring_tool,
        draft.hostname,
        draft.event_time or received_at,  # event_time
        received_at,
        decision.routing_key,
        decision.routing,
        draft.annotations,
        draft.details,
        ref,  # raw
        draft.is_test,
    )
