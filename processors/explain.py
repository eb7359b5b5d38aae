"""Explain one raw record, step by step, with the worker's own functions: the envelope, the
body, the schema verdict (every error, not only the first), the mapped and routed alerts, and
the incident decision a replay of the record's partition reaches. Pure: the records and the
replay come in as arguments (``alertpipe/jobs/explain.py`` fetches them)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from processors.deadletter import DeadLetter
from processors.incidents import IncidentState
from processors.maintenance import MaintenanceWindow, window_json
from processors.parse import parse_body
from processors.pipeline import RawInput, StageOneResult
from processors.replay import Replayer
from processors.validate import SchemaSet, schema_errors, schema_set
from schemas.normalized import ref_text
from schemas.raw import RawHeaders

Named = Literal["raw", "normalized", "dead_letter"]
BODY_LIMIT = 64 * 1024  # characters of body shown


@dataclass(frozen=True)
class SchemaVerdict:
    checked: bool  # False: the body could not be parsed, or the source is unknown
    schema_file: str | None
    errors: tuple[tuple[str, str], ...] = ()  # (JSON path, message), the first one decides
    unchecked_because: str = ""


@dataclass(frozen=True)
class IncidentStep:
    """The incident decision for one alert of the record, as the replay reached it."""

    alert_id: str
    incident_key: str
    decision: str  # open, duplicate, redelivery, ...
    emitted: bool
    duplicates_suppressed: int
    before: IncidentState | None
    after: IncidentState | None
    maintenance: MaintenanceWindow | None = None  # the window the emitted alert carries


@dataclass(frozen=True)
class ReplayWindow:
    """Which records the incident replay saw: one partition of the raw topic, one org."""

    topic: str
    partition: int
    start: int  # first offset replayed
    end: int  # the explained record's offset
    records: int  # records of the org replayed before it


@dataclass
class Explanation:
    named: Named
    raw: RawInput
    timestamp: int  # the raw record's Kafka timestamp (epoch ms)
    envelope: RawHeaders | None
    envelope_error: str | None
    body: str  # pretty when JSON or a form
    verdict: SchemaVerdict
    result: StageOneResult
    recorded_error: DeadLetter | None = None  # what the worker wrote (dead letters)
    delivered: dict[str, Any] | None = None  # the alert as delivered (normalized records)
    window: ReplayWindow | None = None
    steps: list[IncidentStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # limits of this explanation


def body_text(body: bytes, content_type: str) -> str:
    """JSON indented, a form as ``key = value`` lines, anything else as text (or repr)."""
    data = parse_body(body, content_type)
    if isinstance(data, DeadLetter):
        text = body.decode("utf-8", "replace")
    elif isinstance(data, dict) and "json" not in content_type:
        text = "\n".join(f"{k} = {v}" for k, v in data.items())
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "\n… (cut)"


def schema_verdict(
    envelope: RawHeaders | None, body: bytes, schemas: SchemaSet | None = None
) -> SchemaVerdict:
    if envelope is None:
        return SchemaVerdict(False, None, unchecked_because="the record has no usable envelope")
    chosen = schemas or schema_set()
    if envelope.source not in chosen.mappings:
        return SchemaVerdict(False, None, unchecked_because=f"no source {envelope.source!r}")
    origin = chosen.sources[envelope.source].origin
    data = parse_body(body, envelope.content_type, chosen.sources[envelope.source].embedded_json)
    if isinstance(data, DeadLetter):
        because = f"the body did not parse ({data.code})"
        return SchemaVerdict(False, str(origin) if origin else None, unchecked_because=because)
    errors = tuple(schema_errors(envelope.source, data, chosen))
    return SchemaVerdict(True, str(origin) if origin else None, errors)


def decode_envelope(raw: RawInput) -> tuple[RawHeaders | None, str | None]:
    try:
        return RawHeaders.from_kafka(raw.headers), None
    except ValueError as exc:
        return None, str(exc)


def explained_steps(replayer: Replayer, raw: RawInput, timestamp: int) -> list[IncidentStep]:
    """Feed the explained record last, after its partition's earlier records, and keep each
    of its alerts' states before and after."""
    before: dict[str, IncidentState | None] = dict(replayer.states)
    steps = []
    for outcome in replayer.feed(raw, timestamp):
        if outcome.alert is None:
            continue
        key = outcome.alert.incident_key
        steps.append(
            IncidentStep(
                outcome.alert.alert_id,
                key,
                outcome.reason,
                outcome.kind == "alert",
                outcome.duplicates_suppressed,
                before.get(key),
                outcome.state,
                outcome.maintenance,
            )
        )
        before[key] = outcome.state  # a second alert of the record on the same incident
    return steps


def state_json(state: IncidentState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {
        "status": state.status,
        "severity": state.severity,
        "last_transition": state.last_transition,
        "first_seen": state.first_seen,
        "last_seen": state.last_seen,
        "events": state.events,
        "suppressed": state.suppressed,
    }


def explanation_json(e: Explanation) -> dict[str, Any]:
    """Everything the text view shows, as one JSON object (``explain --json``, which puts the
    record asked about under ``ref`` in front)."""
    raw, result = e.raw, e.result
    return {
        "named": e.named,
        "raw_ref": ref_text(raw.topic, raw.partition, raw.offset),
        "timestamp": e.timestamp,
        "headers": {k: v.decode("utf-8", "replace") for k, v in raw.headers},
        "envelope_error": e.envelope_error,
        "body": e.body,
        "schema": {
            "checked": e.verdict.checked,
            "file": e.verdict.schema_file,
            "valid": e.verdict.checked and not e.verdict.errors,
            "errors": [{"path": p, "message": m} for p, m in e.verdict.errors],
        },
        "recorded_error": asdict(e.recorded_error) if e.recorded_error else None,
        "dead_letter": asdict(result.dead_letter) if result.dead_letter else None,
        "alerts": [json.loads(encoded) for encoded in result.encoded],
        "incident": [step_json(s) for s in e.steps],
        "replay_window": asdict(e.window) if e.window else None,
        "delivered": e.delivered,
        "notes": e.notes,
    }


def step_json(step: IncidentStep) -> dict[str, Any]:
    """One incident step; ``maintenance`` only when a window covers the emitted alert."""
    data: dict[str, Any] = {
        "alert_id": step.alert_id,
        "incident_key": step.incident_key,
        "decision": step.decision,
        "emitted": step.emitted,
        "duplicates_suppressed": step.duplicates_suppressed,
        "before": state_json(step.before),
        "after": state_json(step.after),
    }
    if step.maintenance is not None:
        data["maintenance"] = window_json(step.maintenance)
    return data
