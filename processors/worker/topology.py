"""The worker's dataflow on quixstreams: thin steps around the pure stages.

    raw record --stage 1 (processors.stage_one)--> dead letter -> the dead-letter topic
                                              \\-> alert(s)   -> the repartition topic,
                                                               keyed by incident key
    repartition record --stage 2 (processors.stage_two, state in RocksDB + changelog)
                       --> emitted alert -> the delivery topic (key = incident key)

Two dataframes of one application: stage 1 sends each output to its topic in one step (a
topic chosen per record), and stage 2 reads the repartition topic. quixstreams' ``group_by``
would make the same hop, but as a branch (a filter per branch, a pickled copy of every
output, the hop's own filter): measured, the worker drained 16% (exactly-once) and 37%
(at-least-once) more records a second without them (docs/benchmarks.md). Every step runs
per record in quixstreams' loop; the application commits outputs, state and consumed offsets
of both topics together at each checkpoint (one Kafka transaction under exactly-once), so the
incident state always matches the offsets it was decided from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from quixstreams import Application, State, message_context
from quixstreams.dataframe import StreamingDataFrame
from quixstreams.models import Topic, TopicConfig
from quixstreams.models.serializers import SerializationContext, Serializer
from quixstreams.models.topics import TopicManager

from processors.incidents import IncidentPolicy, IncidentState, decode_state, encode_state
from processors.maintenance import MaintenanceWindow, mark_emitted
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


def bytes_topic(
    app: Application,
    name: str,
    value_serializer: Any = "bytes",
    config: TopicConfig | None = None,
) -> Topic:
    """A topic of raw bytes keys and values (``value_serializer``: how outputs are written)."""
    return app.topic(
        name,
        key_deserializer="bytes",
        value_deserializer="bytes",
        key_serializer="bytes",
        value_serializer=value_serializer,
        config=config,
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
    maintenance: Mapping[str, tuple[MaintenanceWindow, ...]] | None = None,
) -> None:
    """Register both stages on ``app``. ``topics``: raw, repartition, normalized, dead_letter
    names (``kafkaio.worker_topics``: the repartition topic is created, if missing, with the
    raw topic's partitions, replication and retention, as quixstreams derives its own).
    ``routes`` is read on every record (the route follower updates it in place).
    ``skip_replays``: at-least-once, where stage 1 may publish an alert twice after a failover
    (``processors.stage_two.Applied``). ``maintenance``: the windows by org, read on every
    emitted alert (the maintenance follower updates it in place); a covered alert is
    delivered with its window (``processors.maintenance``)."""
    applied_ttl = timedelta(milliseconds=max(policy.open_ttl_ms, policy.resolved_ttl_ms))
    raw = bytes_topic(app, topics["raw"])
    dead_letters = bytes_topic(app, topics["dead_letter"], OutputValue())
    normalized = bytes_topic(app, topics["normalized"])
    by_incident = bytes_topic(
        app,
        topics["repartition"],
        OutputValue(),
        config=TopicManager.derive_topic_config([raw]),
    )

    def destination(out: Output, _key: Any, _ts: int, _headers: Headers) -> Topic:
        return dead_letters if out.dead_letter else by_incident

    def first_stage(value: bytes, key: bytes | None, _ts: int, headers: Headers) -> list[Output]:
        ctx = message_context()
        raw_input = RawInput(
            value or b"", list(headers or ()), ctx.topic, ctx.partition, ctx.offset
        )
        result, outputs = stage_one(raw_input, key, routes, schemas)
        metrics.count_stage_one(result, clock())
        return outputs

    def second_stage(
        value: bytes, key: bytes, _ts: int, headers: Headers, state: State[str, Any]
    ) -> bytes | None:
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
        if maintenance and decided.emitted is not None:
            return mark_emitted(decided.emitted, key, maintenance)[0]
        return decided.emitted

    first: StreamingDataFrame = app.dataframe(raw)
    outputs = first.apply(first_stage, metadata=True, expand=True)
    outputs = outputs.set_headers(lambda out, _key, _ts, _headers: out.headers)
    outputs.to_topic(destination, key=lambda out: out.key)
    second: StreamingDataFrame = app.dataframe(by_incident)
    emitted = second.apply(second_stage, stateful=True, metadata=True)
    emitted = emitted.filter(lambda alert: alert is not None)
    emitted = emitted.set_headers(lambda _alert, _key, _ts, _headers: [])
    emitted.to_topic(normalized)
