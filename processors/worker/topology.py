"""The worker's dataflow on quixstreams: thin steps around the pure stages.

    raw record --stage 1 (processors.stage_one)--> dead letter  -> the dead-letter topic
                                               \\-> alert(s)    -> repartition by incident key
    repartition record --stage 2 (processors.stage_two, state in RocksDB + changelog)
                       --> emitted alert -> the delivery topic (key = incident key)

Every step runs per record in quixstreams' loop; the application commits outputs, state and
consumed offsets together at each checkpoint (one Kafka transaction under exactly-once), so the
incident state always matches the offsets it was decided from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from quixstreams import Application, State, message_context
from quixstreams.dataframe import StreamingDataFrame
from quixstreams.models import Topic
from quixstreams.models.serializers import SerializationContext, Serializer

from kafkaio.worker_topics import GROUP_BY
from processors.incidents import IncidentPolicy, IncidentState, decode_state, encode_state
from processors.pipeline import RawInput
from processors.routing import RoutingConfig
from processors.stage_one import Output, stage_one
from processors.stage_two import decide_alert, decode_applied, encode_applied
from processors.validate import SchemaSet
from processors.worker.metrics import WorkerMetrics

# quixstreams scopes state by the record's key (the incident key): one entry per incident,
# and under at-least-once its applied raw offsets (processors.stage_two.Applied).
STATE_KEY = "state"
APPLIED_KEY = "applied"

Headers = Sequence[tuple[str, bytes]] | None


class OutputValue(Serializer):
    """Writes an ``Output``'s bytes as the record value (we own the codec)."""

    def __call__(self, value: Any, ctx: SerializationContext) -> bytes:
        return value.value  # type: ignore[no-any-return]


def _bytes_topic(app: Application, name: str, value_serializer: Any = "bytes") -> Topic:
    return app.topic(
        name,
        key_deserializer="bytes",
        value_deserializer="bytes",
        key_serializer="bytes",
        value_serializer=value_serializer,
    )


def state_ttl(state: IncidentState, policy: IncidentPolicy) -> timedelta:
    """How long quixstreams keeps a state after the record that wrote it (event time): the
    incident TTL of its status. ``processors.incidents.is_expired`` decides; this only frees
    the storage (with a tombstone in the changelog)."""
    ms = policy.resolved_ttl_ms if state.status == "resolved" else policy.open_ttl_ms
    return timedelta(milliseconds=ms)


def build_dataflow(
    app: Application,
    topics: Mapping[str, str],
    routes: Mapping[str, RoutingConfig],
    schemas: SchemaSet | None,
    policy: IncidentPolicy,
    metrics: WorkerMetrics,
    clock: Callable[[], float] = time.time,
    skip_replays: bool = False,
) -> None:
    """Register both stages on ``app``. ``topics``: raw, normalized, dead_letter names.
    ``routes`` is read on every record (the route follower updates it in place).
    ``skip_replays``: at-least-once, where stage 1 may publish an alert twice after a failover
    (``processors.stage_two.Applied``)."""
    applied_ttl = timedelta(milliseconds=max(policy.open_ttl_ms, policy.resolved_ttl_ms))
    raw = _bytes_topic(app, topics["raw"])
    dead_letters = _bytes_topic(app, topics["dead_letter"], OutputValue())
    normalized = _bytes_topic(app, topics["normalized"])

    def first_stage(value: bytes, key: bytes | None, _ts: int, headers: Headers) -> list[Output]:
        ctx = message_context()
        raw_input = RawInput(
            value or b"", list(headers or ()), ctx.topic, ctx.partition, ctx.offset
        )
        result, outputs = stage_one(raw_input, key, routes, schemas)
        metrics.count_stage_one(result, clock())
        return outputs

    def second_stage(
        value: bytes | Output, key: bytes, _ts: int, headers: Headers, state: State[str, Any]
    ) -> bytes | None:
        if isinstance(value, Output):  # a one-partition raw topic: group_by re-keys in place
            value = value.value
        stored = state.get_bytes(STATE_KEY)
        current = decode_state(stored) if stored is not None else None
        applied = decode_applied(state.get_bytes(APPLIED_KEY)) if skip_replays else None
        now = int(clock() * 1000)
        decided = decide_alert(current, value, headers or (), now, policy, applied)
        if decided.applied is not None and decided.applied is not applied:
            state.set_bytes(APPLIED_KEY, encode_applied(decided.applied), ttl=applied_ttl)
        new = decided.state
        if new is None:
            if stored is not None:
                state.delete(STATE_KEY)
        elif new is not current:
            state.set_bytes(STATE_KEY, encode_state(new), ttl=state_ttl(new, policy))
        metrics.count_decision(decided.decision)
        return decided.emitted

    sdf: StreamingDataFrame = app.dataframe(raw)
    outputs = sdf.apply(first_stage, metadata=True, expand=True)
    outputs = outputs.set_headers(lambda out, _key, _ts, _headers: out.headers)
    # Two branches: quixstreams hands the first the value itself and the second a copy, so
    # the alerts (nearly every output) come first.
    alerts = outputs.filter(lambda out: not out.dead_letter)
    letters = outputs.filter(lambda out: out.dead_letter)
    letters.to_topic(dead_letters, key=lambda out: out.key)
    by_incident = alerts.group_by(
        lambda out: out.key,
        name=GROUP_BY,
        key_serializer="bytes",
        value_serializer=OutputValue(),
        key_deserializer="bytes",
        value_deserializer="bytes",
    )
    emitted = by_incident.apply(second_stage, stateful=True, metadata=True)
    emitted = emitted.filter(lambda alert: alert is not None)
    emitted = emitted.set_headers(lambda _alert, _key, _ts, _headers: [])
    emitted.to_topic(normalized)
