"""The incident state machine (brief §3): one pure function from (state, alert) to (decision,
new state). No clock, no Kafka: ``now`` comes in as an argument.

Per incident key (org + entity id) an incident is open (CRITICAL or WARNING), acknowledged or
resolved. What is emitted:
- the first CRITICAL/WARNING (opens it), and a trigger after resolution (opens a new one);
- WARNING -> CRITICAL escalation, also while acknowledged ("pops off ack");
- ACKNOWLEDGEMENT of an open incident, RECOVERY of an open or acknowledged one;
- a RECOVERY or ACKNOWLEDGEMENT for an incident we hold no state for (downstream may);
- INFO, always (it changes nothing); test events, always (they never touch state).
What is suppressed (and counted into the next emission's ``duplicates_suppressed``):
- ``redelivery``: the same source event again (same fingerprint), whatever the state;
- ``late``: event time older than the incident's last transition (a retry after recovery);
- ``duplicate``: a repeat trigger while open, a repeat acknowledgement;
- ``resolved_again``: RECOVERY of a resolved incident;
- ``not_open``: ACKNOWLEDGEMENT of a resolved incident.
State is bounded: resolved incidents are forgotten ``resolved_ttl_ms`` after they were last
seen, open ones after ``open_ttl_ms``; each keeps at most ``max_fingerprints`` fingerprints.

Replays are not redeliveries, and this module never sees them: the worker's state commits
together with the offsets it consumed (``processors.worker``), so after a crash or a rebalance
an alert is decided again against the state it was first decided against, never against a state
that already counts it.

Fingerprints are ``event:<source event id>`` (unique forever, e.g. ThousandEyes' eventId) or
``body:<hash>`` (identical content). Identical content only means "a retry" within one phase of
an incident: Pingometer sends the same bytes for every outage of a monitor, so ``body:``
fingerprints are dropped when an incident resolves or reopens. A retried trigger that carries
an event time is still caught by the ``late`` rule; one with no time at all reopens, because a
double page is better than a missed one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

import orjson

from schemas.normalized import MessageType
from schemas.records import record

Status = Literal["open", "acknowledged", "resolved"]
DAY_MS = 24 * 60 * 60 * 1000
SUPPRESS_REASONS = ("redelivery", "late", "duplicate", "resolved_again", "not_open")


@dataclass(frozen=True)
class IncidentPolicy:
    resolved_ttl_ms: int = 7 * DAY_MS
    open_ttl_ms: int = 30 * DAY_MS
    max_fingerprints: int = 64


@record
class AlertFacts:
    """What the state machine needs of one normalized alert."""

    message_type: MessageType
    event_time: int  # epoch ms, source's clock
    received_at: int  # epoch ms, our clock
    fingerprint: str  # identity of the source event (redelivery detection)
    is_test: bool = False
    alert_id: str | None = None  # kept in the state of the incident it opens
    source: str | None = None
    teams: tuple[str, ...] = ()  # the alert's routing.teams


@record
class IncidentState:
    status: Status
    severity: MessageType | None  # CRITICAL or WARNING while open/acknowledged
    last_transition: int  # event time of the last state change
    first_seen: int  # received_at of the first event of this incident
    last_seen: int  # received_at of the latest event (expiry counts from here)
    events: int  # events seen for this incident
    suppressed: int  # suppressed since the last emission
    fingerprints: tuple[str, ...] = ()
    # The alert that opened the incident (and its source), for `alertpipe incidents`. Last,
    # with defaults: a state written before them decodes with None.
    opened_by: str | None = None
    source: str | None = None
    # The teams the incident's latest alert was routed to (`incidents list --team`, the
    # console's team filter); empty in a state written before it.
    teams: tuple[str, ...] = ()


@record
class Decision:
    emit: bool
    # emit: open, escalate, acknowledge, resolve, info, test, unknown_incident
    # suppress: one of SUPPRESS_REASONS
    reason: str
    duplicates_suppressed: int = 0  # to put in the emitted alert


def is_expired(state: IncidentState, now: int, policy: IncidentPolicy) -> bool:
    ttl = policy.resolved_ttl_ms if state.status == "resolved" else policy.open_ttl_ms
    return now - state.last_seen > ttl


def _seen(
    state: IncidentState, facts: AlertFacts, policy: IncidentPolicy, suppressed: int
) -> IncidentState:
    """``state`` having seen ``facts``, with ``suppressed`` (built directly: this runs for every
    alert, and ``dataclasses.replace`` cost three times as much)."""
    prints = state.fingerprints
    if facts.fingerprint not in prints:
        prints = (*prints, facts.fingerprint)[-policy.max_fingerprints :]
    return IncidentState(  # positional, in field order: keywords take 2.5x as long
        state.status,
        state.severity,
        state.last_transition,
        state.first_seen,
        max(state.last_seen, facts.received_at),  # last_seen
        state.events + 1,
        suppressed,
        prints,
        state.opened_by,
        state.source,
        facts.teams,
    )


def _phase_change(state: IncidentState) -> tuple[str, ...]:
    """Resolve or reopen: the fingerprints kept (source-event ids; content ones are forgotten)."""
    return tuple(f for f in state.fingerprints if f.startswith("event:"))


def _suppress(
    state: IncidentState, facts: AlertFacts, reason: str, policy: IncidentPolicy
) -> tuple[Decision, IncidentState]:
    return Decision(False, reason), _seen(state, facts, policy, state.suppressed + 1)


def _emit(
    state: IncidentState | None,
    new: IncidentState,
    facts: AlertFacts,
    reason: str,
    policy: IncidentPolicy,
) -> tuple[Decision, IncidentState]:
    carried = state.suppressed if state is not None else 0
    return Decision(True, reason, carried), _seen(new, facts, policy, 0)


def _fresh(
    status: Status,
    facts: AlertFacts,
    severity: MessageType | None,
    fingerprints: tuple[str, ...] = (),
) -> IncidentState:
    return IncidentState(  # positional, in field order (see _seen)
        status,
        severity,
        facts.event_time,  # last_transition
        facts.received_at,  # first_seen
        facts.received_at,  # last_seen
        0,  # events
        0,  # suppressed
        fingerprints,
        facts.alert_id,  # opened_by
        facts.source,
        facts.teams,
    )


def decide(
    state: IncidentState | None,
    facts: AlertFacts,
    now: int,
    policy: IncidentPolicy = IncidentPolicy(),
) -> tuple[Decision, IncidentState | None]:
    """The decision for one alert and the incident's state afterwards (None: no state)."""
    if facts.is_test:
        return Decision(True, "test"), state
    if state is not None and is_expired(state, now, policy):
        state = None
    if state is not None and facts.fingerprint in state.fingerprints:
        return _suppress(state, facts, "redelivery", policy)
    kind = facts.message_type
    if kind == "INFO":
        if state is None:
            return Decision(True, "info"), None
        return _emit(state, state, facts, "info", policy)
    if state is not None and facts.event_time < state.last_transition:
        return _suppress(state, facts, "late", policy)
    moved = facts.event_time
    if kind in ("CRITICAL", "WARNING"):
        if state is None or state.status == "resolved":
            # a redelivery of the old incident's events stays suppressed
            kept = _phase_change(state) if state is not None else ()
            return _emit(state, _fresh("open", facts, kind, kept), facts, "open", policy)
        if kind == "CRITICAL" and state.severity == "WARNING":
            escalated = replace(state, status="open", severity="CRITICAL", last_transition=moved)
            return _emit(state, escalated, facts, "escalate", policy)
        return _suppress(state, facts, "duplicate", policy)
    if kind == "ACKNOWLEDGEMENT":
        if state is None:
            return Decision(True, "unknown_incident"), None
        if state.status == "open":
            acked = replace(state, status="acknowledged", last_transition=moved)
            return _emit(state, acked, facts, "acknowledge", policy)
        reason = "duplicate" if state.status == "acknowledged" else "not_open"
        return _suppress(state, facts, reason, policy)
    # RECOVERY
    if state is None:
        return _emit(None, _fresh("resolved", facts, None), facts, "unknown_incident", policy)
    if state.status == "resolved":
        return _suppress(state, facts, "resolved_again", policy)
    resolved = replace(
        state,
        status="resolved",
        severity=None,
        last_transition=moved,
        fingerprints=_phase_change(state),
    )
    return _emit(state, resolved, facts, "resolve", policy)


def encode_state(state: IncidentState) -> bytes:
    return orjson.dumps(state)


def decode_state(value: bytes) -> IncidentState:
    """A state of this version or an older one (fields it lacks take their defaults); fields
    of a newer one are dropped, so a worker rolled back still reads what its successor wrote."""
    raw = orjson.loads(value)
    raw["fingerprints"] = tuple(raw.get("fingerprints") or ())
    raw["teams"] = tuple(raw.get("teams") or ())
    try:
        return IncidentState(**raw)
    except TypeError:
        return IncidentState(**{k: v for k, v in raw.items() if k in _STATE_FIELDS})


_STATE_FIELDS = frozenset(f.name for f in fields(IncidentState))
