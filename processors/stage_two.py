"""Stage 2, pure: one alert as stage 1 publishes it (the value and headers of a record of the
repartition topic, keyed by incident key) through the incident state machine.

The live worker (``processors.worker.topology``), replay and explain all decide through
``decide_alert``, so a replay reproduces the live worker's decisions and delivered bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from processors.incidents import AlertFacts, Decision, IncidentPolicy, IncidentState, decide
from processors.parse import parse_json
from schemas.normalized import dump_json

# The redelivery identity of a stage-1 alert ("event:..." or "body:...", processors.incidents).
FINGERPRINT_HEADER = "fingerprint"


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
