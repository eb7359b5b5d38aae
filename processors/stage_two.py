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


def facts_of(alert: dict[str, Any], headers: Sequence[tuple[str, bytes]]) -> AlertFacts:
    fingerprint = ""
    for name, value in headers:
        if name == FINGERPRINT_HEADER:
            fingerprint = value.decode()
    return AlertFacts(
        message_type=alert["message_type"],
        event_time=int(alert["event_time"]),
        received_at=int(alert["received_at"]),
        fingerprint=fingerprint or f"alert:{alert['alert_id']}",
        is_test=bool(alert.get("is_test")),
    )


@record
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
    canonical = value.endswith(_COUNT_TAIL)
    alert = _facts_only(value) if canonical else parse_json(value)
    if not isinstance(alert, dict):
        raise ValueError(f"a stage-1 record is not a JSON object: {value[:80]!r}")
    decision, new_state = decide(state, facts_of(alert, headers), now, policy)
    if not decision.emit:
        return Decided(decision, new_state, None)
    count = decision.duplicates_suppressed
    emitted = with_count(value, count)
    if emitted is None:
        alert["duplicates_suppressed"] = count
        emitted = dump_json(alert)
    return Decided(decision, new_state, emitted)


def with_count(value: bytes, count: int) -> bytes | None:
    """``value``, an alert as stage 1 encodes it, with ``duplicates_suppressed`` set to
    ``count``: the bytes re-encoding the parsed alert would give, without parsing it again.
    None when ``value`` does not end as stage 1 ends every alert."""
    if not value.endswith(_COUNT_TAIL):
        return None
    if count == 0:
        return value
    return b"%b%b%d%b" % (value[: -len(_COUNT_TAIL)], _COUNT_AT, count, _TAIL_END)


def _facts_only(value: bytes) -> object:
    """The alert for its facts only (its bytes are never re-encoded): orjson turns integers
    beyond 64 bits into floats, which no fact is (they are validated epoch ms)."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return parse_json(value)
