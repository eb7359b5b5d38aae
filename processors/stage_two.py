"""Stage 2 shell: incident decisions for a batch of stage-1 alerts, against the incident table.

Order per batch, chosen so that a crash at any point loses no alert:
1. decide every alert in order (pure ``processors.incidents.decide``), state kept in memory;
2. send the emitted alerts and wait until Kafka acknowledged all of them;
3. only then write the new states to the table and wait until its changelog has them
   (``processors.durable_table``); then faust acks the events and later commits their offsets.
A crash before 3 leaves the old state: the batch is decided again and the same alerts (same
alert_id) are emitted again, which consumers drop by alert_id. A crash after 3 but before the
commit finds the new state: the replayed events are at or below the positions it records, so
they are suppressed as ``replayed`` and change nothing. Emitting after writing the state would
lose alerts in that window, hence this order.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from processors.incidents import (
    AlertFacts,
    Decision,
    IncidentPolicy,
    IncidentState,
    Position,
    decide,
    decode_state,
    encode_state,
    is_expired,
)
from processors.metrics import WorkerMetrics
from processors.parse import parse_json
from schemas.normalized import RawRef, dump_json

FINGERPRINT_HEADER = "fingerprint"
# Where a stage-1 alert came from: ``<raw topic>/<partition>/<offset>/<index>`` (Kafka topic
# names cannot hold '/'); stage 2 recognises replays by it.
POSITION_HEADER = "position"
# A record on the stage-1 topic that asks the owner of a key to drop its state if expired.
EXPIRE_HEADER = "alertpipe.expire"


@dataclass(frozen=True)
class Staged:
    event: Any
    key: bytes
    state: IncidentState | None


def position_header(raw: RawRef, index: int) -> bytes:
    return f"{raw.topic}/{raw.partition}/{raw.offset}/{index}".encode()


def stage_one_headers(raw: RawRef, index: int, fingerprint: str) -> list[tuple[str, bytes]]:
    """Headers of the stage-1 record of the index-th alert of a raw record."""
    return [
        (FINGERPRINT_HEADER, fingerprint.encode()),
        (POSITION_HEADER, position_header(raw, index)),
    ]


def parse_position(value: bytes | None) -> Position | None:
    if not value:
        return None
    try:
        topic, partition, offset, index = value.decode().rsplit("/", 3)
        return (f"{topic}/{int(partition)}", int(offset), int(index))
    except ValueError:  # not ours: decide without replay detection rather than fail
        return None


def facts_of(alert: dict[str, Any], headers: Sequence[tuple[str, bytes]]) -> AlertFacts:
    found = dict(headers)
    fingerprint = found.get(FINGERPRINT_HEADER, b"").decode() or f"alert:{alert['alert_id']}"
    return AlertFacts(
        message_type=alert["message_type"],
        event_time=int(alert["event_time"]),
        received_at=int(alert["received_at"]),
        fingerprint=fingerprint,
        is_test=bool(alert.get("is_test")),
        position=parse_position(found.get(POSITION_HEADER)),
    )


@dataclass(frozen=True)
class Decided:
    decision: Decision
    state: IncidentState | None
    emitted: bytes | None  # the alert as published on the delivery topic, when emitted


def decide_alert(
    state: IncidentState | None,
    value: bytes,
    headers: Sequence[tuple[str, bytes]],
    now: int,
    policy: IncidentPolicy,
) -> Decided:
    """One stage-1 record (value and headers as on the wire) through the incident state
    machine. The live stage 2, replay and explain all decide through this function."""
    alert = parse_json(value)  # integers beyond 64 bits stay exact (orjson makes them floats)
    if not isinstance(alert, dict):
        raise ValueError(f"a stage-1 record is not a JSON object: {value[:80]!r}")
    decision, new_state = decide(state, facts_of(alert, headers), now, policy)
    if not decision.emit:
        return Decided(decision, new_state, None)
    alert["duplicates_suppressed"] = decision.duplicates_suppressed
    return Decided(decision, new_state, dump_json(alert))


async def decide_batch(
    events: Sequence[Any],
    table: MutableMapping[bytes, bytes],
    set_event: Callable[[Any], None],
    send: Callable[[bytes, bytes], Awaitable[Any]],
    policy: IncidentPolicy,
    metrics: WorkerMetrics,
) -> tuple[list[Any], list[Staged]]:
    """Steps 1 and 2 (sends started, not awaited): returns (delivery futures, new states)."""
    now = int(time.time() * 1000)
    states: dict[bytes, IncidentState | None] = {}
    staged: list[Staged] = []
    deliveries = []
    emitted: Counter[str] = Counter()
    suppressed: Counter[str] = Counter()
    for event in events:
        message = event.message
        key: bytes = message.key
        if key not in states:
            set_event(event)  # the store reads from this event's partition
            stored = table.get(key)
            states[key] = decode_state(stored) if stored is not None else None
        headers = list(message.headers or ())
        if (EXPIRE_HEADER, b"1") in headers:
            current = states[key]
            if current is not None and is_expired(current, now, policy):
                states[key] = None
                metrics.expired.inc()
                staged.append(Staged(event, key, None))
            continue
        decided = decide_alert(states[key], message.value, headers, now, policy)
        states[key] = decided.state
        staged.append(Staged(event, key, states[key]))
        if decided.emitted is not None:
            emitted[decided.decision.reason] += 1
            deliveries.append(await send(key, decided.emitted))
        else:
            suppressed[decided.decision.reason] += 1
    metrics.count_decisions(emitted, suppressed)
    return deliveries, staged


def write_states(
    staged: Sequence[Staged],
    table: MutableMapping[bytes, bytes],
    set_event: Callable[[Any], None],
) -> None:
    """Step 3: the last state of each key, written in the context of its own last event so
    the store and the changelog use that event's partition."""
    written: set[bytes] = set()
    for item in reversed(staged):
        if item.key in written:
            continue
        written.add(item.key)
        set_event(item.event)
        if item.state is None:
            table.pop(item.key, None)
        else:
            table[item.key] = encode_state(item.state)
