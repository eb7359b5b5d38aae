"""Replay: raw records through the live worker's own pure functions, in order.

Each record goes through ``process_raw`` (stage 1), then each of its alerts, as the stage-1
bytes and headers the worker would publish, through ``stage_two.decide_alert`` (stage 2). So a
replay gives the same ``alert_id``s, the same decisions and the same delivered bytes as the
live worker, given the same order, routes, schemas and incident state.

The incident state is a dict here: one entry per incident key of the range that holds state
(memory grows with the incidents, not the records), and it starts empty. A range that starts
in the middle of an incident therefore decides differently from the live worker (a repeat
trigger opens the incident instead of being suppressed); start the range earlier to cover
the incident's start. ``now`` of each decision is the record's time (what the live worker's
clock read, give or take its lag), so TTLs expire states as they did live.

Maintenance windows are those of the maintenance topic now, ended ones included (``end``
rewrites a window's ``until``, it does not delete it); an emitted alert gets the window that
covered its ``received_at``, as the live worker decided (``processors.maintenance``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from processors.deadletter import DeadLetter
from processors.incidents import IncidentPolicy, IncidentState
from processors.maintenance import MaintenanceWindow, mark_emitted, window_json
from processors.pipeline import RawInput, process_raw
from processors.routing import RoutingConfig
from processors.stage_one import alert_outputs
from processors.stage_two import decide_alert
from processors.validate import SchemaSet
from schemas.normalized import NormalizedAlert, RawRef, ref_text
from schemas.raw import RawHeaders

OutcomeKind = Literal["alert", "suppressed", "dead_letter"]


@dataclass(frozen=True)
class Outcome:
    """What became of one alert of a raw record (or of the whole record, for a dead letter)."""

    kind: OutcomeKind
    reason: str  # the incident decision (open, duplicate, ...) or the dead-letter code
    raw: RawRef
    timestamp: int  # the raw record's Kafka timestamp, epoch ms
    source: str
    envelope: RawHeaders | None
    alert: NormalizedAlert | None = None  # as mapped and routed (before stage 2)
    duplicates_suppressed: int = 0  # carried by an emitted alert
    emitted: bytes | None = None  # what the delivery topic gets, for an emitted alert
    dead_letter: DeadLetter | None = None
    state: IncidentState | None = None  # the incident's state after this decision
    maintenance: MaintenanceWindow | None = None  # the window an emitted alert carries


class Replayer:
    """Feed raw records in order; get their outcomes. Holds the incident states."""

    def __init__(
        self,
        routes: Mapping[str, RoutingConfig],
        policy: IncidentPolicy,
        schemas: SchemaSet | None = None,
        maintenance: Mapping[str, tuple[MaintenanceWindow, ...]] | None = None,
    ) -> None:
        """``maintenance``: the windows by org (``processors.maintenancestore``)."""
        self.routes = routes
        self.maintenance = maintenance or {}
        self.policy = policy
        self.schemas = schemas
        self.states: dict[str, IncidentState] = {}

    def feed(self, raw: RawInput, timestamp: int) -> list[Outcome]:
        result = process_raw(raw, self.routes, self.schemas)
        if result.dead_letter is not None:
            letter = result.dead_letter
            return [
                Outcome(
                    "dead_letter",
                    letter.code,
                    raw.ref,
                    timestamp,
                    result.source,
                    result.envelope,
                    dead_letter=letter,
                )
            ]
        outcomes = []
        for alert, out in zip(result.alerts, alert_outputs(result), strict=True):
            key = alert.incident_key
            decided = decide_alert(
                self.states.get(key), out.value, out.headers, timestamp, self.policy
            )
            if decided.state is None:
                self.states.pop(key, None)
            else:
                self.states[key] = decided.state
            emitted, window = decided.emitted, None
            if emitted is not None and self.maintenance:
                emitted, window = mark_emitted(emitted, key.encode(), self.maintenance)
            outcomes.append(
                Outcome(
                    "alert" if decided.emitted is not None else "suppressed",
                    decided.decision.reason,
                    raw.ref,
                    timestamp,
                    result.source,
                    result.envelope,
                    alert=alert,
                    duplicates_suppressed=decided.decision.duplicates_suppressed,
                    emitted=emitted,
                    state=decided.state,
                    maintenance=window,
                )
            )
        return outcomes


@dataclass(frozen=True)
class OutcomeFilter:
    """``--org``, ``--source``, ``--routing-key``. Records of another org are not replayed at
    all (incident keys never cross orgs); source and routing key only choose what is shown,
    since one incident's events may come from several sources or routing keys."""

    org: str | None = None
    source: str | None = None
    routing_key: str | None = None  # requested (as received) or resolved, case-insensitive

    def replays(self, headers: list[tuple[str, bytes]]) -> bool:
        if self.org is None:
            return True
        return any(k == "org" and v == self.org.encode() for k, v in headers)

    def shows(self, outcome: Outcome) -> bool:
        envelope = outcome.envelope
        if self.org is not None and (envelope is None or envelope.org != self.org):
            return False
        if self.source is not None and outcome.source != self.source:
            return False
        if self.routing_key is None:
            return True
        wanted = self.routing_key.lower()
        requested = envelope.routing_key.lower() if envelope else None
        resolved = outcome.alert.routing_key if outcome.alert else None
        return wanted in (requested, resolved)


def iso_time(epoch_ms: int) -> str:
    """UTC, to the millisecond: ``2025-03-17T19:43:00.123Z``."""
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """One JSON object per outcome (``--json``): the same fields for every kind, and
    ``maintenance`` (the window's id, reason, until, start) for an alert a window covers."""
    alert, envelope, letter = outcome.alert, outcome.envelope, outcome.dead_letter
    data: dict[str, Any] = {
        "time": iso_time(outcome.timestamp),
        "ref": ref_text(outcome.raw.topic, outcome.raw.partition, outcome.raw.offset),
        "org": envelope.org if envelope else None,
        "source": outcome.source,
        "request_id": envelope.request_id if envelope else None,
        "outcome": outcome.kind,
        "reason": outcome.reason,
        "alert_id": alert.alert_id if alert else None,
        "incident_key": alert.incident_key if alert else None,
        "message_type": alert.message_type if alert else None,
        "entity_id": alert.entity_id if alert else None,
        "routing_key": alert.routing_key if alert else None,
        "routing": asdict(alert.routing) if alert else None,
        "duplicates_suppressed": outcome.duplicates_suppressed if alert else None,
        "error": asdict(letter) if letter else None,
    }
    if outcome.maintenance is not None:
        data["maintenance"] = window_json(outcome.maintenance)
    return data


@dataclass
class Summary:
    """Counts by outcome and by reason, as a replay goes (printed at the end or on Ctrl-C)."""

    records: int = 0  # raw records read in the range
    skipped: int = 0  # of which not shown: another org, source or routing key
    by_kind: Counter[str] = field(default_factory=Counter)
    by_reason: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.by_kind[outcome.kind] += 1
        self.by_reason.setdefault(outcome.kind, Counter())[outcome.reason] += 1

    def lines(self) -> list[str]:
        names = {"alert": "alerts", "suppressed": "suppressed", "dead_letter": "dead letters"}
        out = []
        for kind, name in names.items():
            reasons = self.by_reason.get(kind, Counter())
            detail = ", ".join(f"{r} {n}" for r, n in sorted(reasons.items()))
            out.append(f"{name}: {self.by_kind[kind]}" + (f" ({detail})" if detail else ""))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "skipped": self.skipped,
            "outcomes": dict(self.by_kind),
            "reasons": {kind: dict(c) for kind, c in self.by_reason.items()},
        }
