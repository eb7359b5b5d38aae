"""Stage 2, pure: one alert as stage 1 publishes it (the value and headers of a record of the
repartition topic, keyed by incident key) through the incident state machine.

The live worker (``processors.worker.topology``), replay and explain all decide through
``decide_alert``, so a replay reproduces the live worker's decisions and delivered bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from processors.incidents import AlertFacts, Decision, IncidentPolicy, IncidentState, decide
from processors.parse import parse_json
from schemas.normalized import SCHEMA_VERSION, dump_json
from schemas.records import record

# The redelivery identity of a stage-1 alert ("event:..." or "body:...", processors.incidents).
FINGERPRINT_HEADER = "fingerprint"
# How every alert stage 1 encodes ends (``schemas.normalized.encode_alert``: the fields in
# their declared order, compact): stage 2 writes its count there without re-encoding.
_COUNT_AT = b',"duplicates_suppressed":'
_TAIL_END = b',"schema_version":%d}' % SCHEMA_VERSION
_COUNT_TAIL = _COUNT_AT + b"0" + _TAIL_END


def stage_one_headers(fingerprint: str) -> list[tuple[str, bytes]]:
    """Headers of the record that carries one alert from stage 1 to stage 2."""
    return [(FINGERPRINT_HEADER, fingerprint.encode())]


EMPTY: dict[str, Any] = {}


def facts_of(alert: dict[str, Any], headers: Sequence[tuple[str, bytes]]) -> AlertFacts:
    fingerprint = ""
    for name, value in headers:
        if name == FINGERPRINT_HEADER:
            fingerprint = value.decode()
    return AlertFacts(  # positional, in field order: keywords take twice as long
        alert["message_type"],
        int(alert["event_time"]),
        int(alert["received_at"]),
        fingerprint or f"alert:{alert['alert_id']}",
        bool(alert.get("is_test")),
        alert["alert_id"],
        alert.get("source"),
        tuple((alert.get("routing") or EMPTY).get("teams") or ()),
    )


# At-least-once only. A worker taking over a raw partition publishes again, to the stage-1
# topic, the alerts of the raw records its predecessor published but had not committed, so
# there stage 2 finds them twice. Deciding an alert twice is not harmless: a content
# fingerprint ("body:") is forgotten when an incident resolves or reopens, so a copy that
# comes after the phase change is emitted again, and records its fingerprint into the new
# phase, where it suppresses a later genuine repeat (seen in the frozen-worker fault test,
# FAULT_SEED=606). So each incident also keeps, per raw partition, the highest raw offset it
# decided, and an alert at or below it is a replay: skipped, neither emitted nor counted
# into the incident (the worker counts it as suppressed, reason ``replayed``).
# Exactly-once needs none of this: the copies are in aborted transactions.
Applied = dict[int, int]  # raw partition -> highest raw offset decided
REPLAYED = "replayed"  # the decision reason of a skipped copy
# On what ``alertpipe dlq redrive`` publishes: an alert of an old raw record, decided anyway.
REDRIVEN_HEADER = "redriven"


@record
class Decided:
    decision: Decision
    state: IncidentState | None
    emitted: bytes | None  # the alert as published on the delivery topic, when emitted
    applied: Applied | None = None  # at-least-once: the incident's applied offsets after it


def encode_applied(applied: Applied) -> bytes:
    return orjson.dumps({str(p): o for p, o in applied.items()})


def decode_applied(value: bytes | None) -> Applied:
    return {int(p): int(o) for p, o in orjson.loads(value).items()} if value else {}


def decide_alert(
    state: IncidentState | None,
    value: bytes,
    headers: Sequence[tuple[str, bytes]],
    now: int,
    policy: IncidentPolicy,
    applied: Applied | None = None,
) -> Decided:
    """One stage-1 record (value and headers as on the wire) through the incident state
    machine. The live stage 2, replay and explain all decide through this function.
    ``applied``: the incident's applied raw offsets, under at-least-once only (see Applied)."""
    canonical = value.endswith(_COUNT_TAIL)
    alert = _facts_only(value) if canonical else parse_json(value)
    if not isinstance(alert, dict):
        raise ValueError(f"a stage-1 record is not a JSON object: {value[:80]!r}")
    if applied is not None and not any(name == REDRIVEN_HEADER for name, _ in headers):
        partition, offset = int(alert["raw"]["partition"]), int(alert["raw"]["offset"])
        if offset <= applied.get(partition, -1):
            return Decided(Decision(False, REPLAYED), state, None, applied)
        applied = {**applied, partition: offset}
    decision, new_state = decide(state, facts_of(alert, headers), now, policy)
    if not decision.emit:
        return Decided(decision, new_state, None, applied)
    count = decision.duplicates_suppressed
    emitted = with_count(value, count)
    if emitted is None:
        alert["duplicates_suppressed"] = count
        emitted = dump_json(alert)
    return Decided(decision, new_state, emitted, applied)


def with_count(value: bytes, count: int) -> bytes | None:
    """``value``, an alert as stage 1 encodes it, with ``duplicates_suppressed`` set to
    ``count``: the bytes re-encoding the parsed alert would give, without parsing it again.
    None when ``value`` does not end as stage 1 ends every alert."""
    if not value.endswith(_COUNT_TAIL):
        return None
    if count == 0:
        return value
    return b"%b%b%d%b" % (value[: -len(_COUNT_TAIL)], _COUNT_AT, count, _TAIL_END)


# Stage 1's form (``schemas.normalized.alert_json``) starts with scalar fields and "routing"
# (strings, a list of strings, no object inside), then "incident_key", and ends with "raw"
# and what follows it. In JSON text `,"` never occurs inside a string (a quote there is
# escaped), so the first `},"incident_key":` ends the head and the last `,"raw":{"topic":`
# starts the tail, whatever the details hold.
_HEAD_END = b'},"incident_key":'
_TAIL_START = b',"raw":{"topic":'
_FACT_KEYS = frozenset(("alert_id", "message_type", "event_time", "received_at", "routing", "raw"))
# Below this size a whole parse is as cheap as the two partial ones (timeit, µs whole vs
# partial: 1.5 vs 1.8 at 700 bytes, about even at 1.2 kB, 4.7 vs 2.7 at 2.4 kB).
_PARTIAL_FROM = 1280


def _facts_only(value: bytes) -> object:
    """The alert for its facts only (its bytes are never re-encoded). A large ``value`` in stage
    1's form: its head and tail parsed, not the details between them (parsing those was most
    of stage 2's cost on a 2 kB alert); anything else is parsed whole. orjson turns
    integers beyond 64 bits into floats, which no fact is (they are validated epoch ms)."""
    if len(value) >= _PARTIAL_FROM:
        facts = _head_and_tail(value)
        if facts is not None:
            return facts
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return parse_json(value)


def _head_and_tail(value: bytes) -> dict[str, Any] | None:
    """The head and tail fields of ``value``; None when it is not in stage 1's form."""
    head_end, tail_start = value.find(_HEAD_END), value.rfind(_TAIL_START)
    if not 0 < head_end < tail_start:
        return None
    try:
        facts = orjson.loads(value[: head_end + 1] + b"}")
        tail = orjson.loads(b"{" + value[tail_start + 1 :])
    except orjson.JSONDecodeError:
        return None
    if type(facts) is not dict or type(tail) is not dict:
        return None
    facts.update(tail)
    return facts if facts.keys() >= _FACT_KEYS else None
