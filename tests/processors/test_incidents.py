"""The incident state machine, against the brief's scenario and a small reference model."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.incidents import (
    DAY_MS,
    AlertFacts,
    IncidentPolicy,
    IncidentState,
    decide,
    decode_state,
    encode_state,
)
from schemas.normalized import MessageType


def facts(kind: MessageType, t: int, fp: str, test: bool = False) -> AlertFacts:
    return AlertFacts(kind, event_time=t, received_at=t, fingerprint=fp, is_test=test)


def run(events: list[AlertFacts], now: int = 10**6) -> list[tuple[bool, str, int]]:
    state: IncidentState | None = None
    out = []
    for event in events:
        decision, state = decide(state, event, now)
        out.append((decision.emit, decision.reason, decision.duplicates_suppressed))
    return out


def test_the_brief_scenario() -> None:
    """trigger, trigger (new event id), redelivery (same id), clear, late trigger, trigger."""
    assert run(
        [
            facts("CRITICAL", 100, "event:e1"),
            facts("CRITICAL", 110, "event:e2"),
            facts("CRITICAL", 110, "event:e2"),
            facts("RECOVERY", 200, "event:e3"),
            facts("CRITICAL", 150, "event:e4"),
            facts("CRITICAL", 300, "event:e5"),
        ]
    ) == [
        (True, "open", 0),
        (False, "duplicate", 0),
        (False, "redelivery", 0),
        (True, "resolve", 2),
        (False, "late", 0),
        (True, "open", 1),
    ]


def test_escalation_pops_off_ack_and_acks_are_emitted_once() -> None:
    assert run(
        [
            facts("WARNING", 1, "a"),
            facts("ACKNOWLEDGEMENT", 2, "b"),
            facts("ACKNOWLEDGEMENT", 3, "c"),
            facts("WARNING", 4, "d"),
            facts("CRITICAL", 5, "e"),
            facts("CRITICAL", 6, "f"),
            facts("RECOVERY", 7, "g"),
            facts("RECOVERY", 8, "h"),
            facts("ACKNOWLEDGEMENT", 9, "i"),
        ]
    ) == [
        (True, "open", 0),
        (True, "acknowledge", 0),
        (False, "duplicate", 0),
        (False, "duplicate", 0),
        (True, "escalate", 2),
        (False, "duplicate", 0),
        (True, "resolve", 1),
        (False, "resolved_again", 0),
        (False, "not_open", 0),
    ]


def test_info_and_tests_never_touch_state() -> None:
    state: IncidentState | None = None
    decision, state = decide(state, facts("INFO", 1, "i"), 10)
    assert (decision.emit, state) == (True, None)
    decision, state = decide(state, facts("CRITICAL", 2, "t", test=True), 10)
    assert (decision.emit, decision.reason, state) == (True, "test", None)
    _, opened = decide(None, facts("CRITICAL", 3, "c"), 10)
    decision, after = decide(opened, facts("CRITICAL", 4, "t2", test=True), 10)
    assert (decision.emit, after) == (True, opened)


def test_unknown_incidents_recovery_and_ack_are_emitted() -> None:
    assert run([facts("RECOVERY", 5, "r")]) == [(True, "unknown_incident", 0)]
    assert run([facts("ACKNOWLEDGEMENT", 5, "a")]) == [(True, "unknown_incident", 0)]
    assert run([facts("RECOVERY", 5, "r"), facts("RECOVERY", 6, "r2")])[1] == (
        False,
        "resolved_again",
        0,
    )


def test_state_is_forgotten_after_its_ttl() -> None:
    policy = IncidentPolicy(resolved_ttl_ms=7 * DAY_MS, open_ttl_ms=30 * DAY_MS)
    _, resolved = decide(None, facts("RECOVERY", 0, "r"), 0, policy)
    decision, _ = decide(resolved, facts("RECOVERY", 1, "r2"), 7 * DAY_MS, policy)
    assert decision.reason == "resolved_again"
    decision, _ = decide(resolved, facts("RECOVERY", 1, "r2"), 7 * DAY_MS + 1, policy)
    assert decision.reason == "unknown_incident"  # forgotten
    _, opened = decide(None, facts("CRITICAL", 0, "c"), 0, policy)
    assert decide(opened, facts("CRITICAL", 1, "c2"), 29 * DAY_MS, policy)[0].reason == "duplicate"
    assert decide(opened, facts("CRITICAL", 1, "c2"), 31 * DAY_MS, policy)[0].reason == "open"


def test_fingerprints_are_bounded() -> None:
    policy = IncidentPolicy(max_fingerprints=3)
    state: IncidentState | None = None
    for i in range(10):
        _, state = decide(state, facts("CRITICAL", i, f"f{i}"), 100, policy)
    assert state is not None
    assert state.fingerprints == ("f7", "f8", "f9")


def test_identical_bodies_reopen_after_recovery_but_event_ids_never_repeat() -> None:
    """Pingometer sends the same bytes for every outage of a monitor: each must page."""
    down, up = "body:monitor-48213-down", "body:monitor-48213-up"
    assert run(
        [
            facts("CRITICAL", 1, down),
            facts("CRITICAL", 2, down),
            facts("RECOVERY", 3, up),
            facts("CRITICAL", 4, down),
        ]
    ) == [(True, "open", 0), (False, "redelivery", 0), (True, "resolve", 1), (True, "open", 0)]
    assert run(
        [
            facts("CRITICAL", 1, "event:1"),
            facts("RECOVERY", 3, "event:2"),
            facts("CRITICAL", 4, "event:1"),
        ]
    )[2] == (False, "redelivery", 0)


def test_the_state_keeps_the_teams_of_the_latest_alert() -> None:
    opened = AlertFacts("CRITICAL", 1, 1, "event:1", teams=("dba",))
    _, state = decide(None, opened, 9)
    assert state is not None
    assert state.teams == ("dba",)
    # a repeat routed elsewhere (the routes changed): suppressed, and the teams follow it
    decision, state = decide(state, AlertFacts("CRITICAL", 2, 2, "event:2", teams=("noc",)), 9)
    assert not decision.emit
    assert state is not None
    assert state.teams == ("noc",)
    _, state = decide(state, AlertFacts("RECOVERY", 3, 3, "event:3", teams=("noc", "dba")), 9)
    assert state is not None
    assert (state.status, state.teams) == ("resolved", ("noc", "dba"))
    # a test alert never touches the state
    _, after = decide(state, AlertFacts("INFO", 4, 4, "event:4", is_test=True, teams=("x",)), 9)
    assert after == state


def test_state_codec_round_trips() -> None:
    _, state = decide(None, facts("WARNING", 5, "x"), 9)
    assert state is not None
    assert decode_state(encode_state(state)) == state


@dataclass
class ReferenceModel:
    """The rules written out plainly, independently of the implementation's structure."""

    status: str | None = None  # None: no state held
    severity: str | None = None
    last_transition: int = 0
    seen: set[str] = field(default_factory=set)
    pending: int = 0

    def step(self, kind: str, t: int, fp: str, test: bool) -> tuple[bool, int]:
        if test:
            return True, 0
        if self.status is not None and fp in self.seen:
            self.pending += 1
            return False, 0
        if kind == "INFO":
            if self.status is not None:
                self.seen.add(fp)
                return self._emitted()
            return True, 0
        if self.status is not None and t < self.last_transition:
            self.seen.add(fp)
            self.pending += 1
            return False, 0
        if self.status is None and kind == "ACKNOWLEDGEMENT":
            return True, 0
        if self.status is None and kind == "RECOVERY":
            self.status, self.last_transition, self.seen = "resolved", t, {fp}
            return self._emitted()
        opens = kind in ("CRITICAL", "WARNING") and self.status in (None, "resolved")
        escalates = (
            kind == "CRITICAL"
            and self.status in ("open", "acknowledged")
            and (self.severity == "WARNING")
        )
        acks = kind == "ACKNOWLEDGEMENT" and self.status == "open"
        resolves = kind == "RECOVERY" and self.status in ("open", "acknowledged")
        self.seen.add(fp)
        if opens or resolves:  # a new phase: content fingerprints no longer mean "retry"
            self.seen = {f for f in self.seen if f.startswith("event:")} | {fp}
        if opens or escalates:
            self.status, self.severity, self.last_transition = "open", kind, t
        elif acks:
            self.status, self.last_transition = "acknowledged", t
        elif resolves:
            self.status, self.severity, self.last_transition = "resolved", None, t
        else:
            self.pending += 1
            return False, 0
        return self._emitted()

    def _emitted(self) -> tuple[bool, int]:
        carried, self.pending = self.pending, 0
        return True, carried


KINDS: list[MessageType] = ["CRITICAL", "WARNING", "ACKNOWLEDGEMENT", "INFO", "RECOVERY"]
# a small pool, so redeliveries happen; both kinds of fingerprint
fingerprints = st.sampled_from([f"{kind}:{i}" for kind in ("event", "body") for i in range(5)])
one_in_ten = st.integers(0, 9).map(lambda n: n == 0)
events = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 30), fingerprints, one_in_ten), max_size=40
)


@settings(max_examples=3000, deadline=None)
@given(sequence=events)
def test_matches_the_reference_model(sequence: list[tuple[MessageType, int, str, bool]]) -> None:
    model = ReferenceModel()
    state: IncidentState | None = None
    suppressed = carried = 0
    for kind, t, fp, test in sequence:
        decision, state = decide(state, facts(kind, t, fp, test), now=100)
        expected = model.step(kind, t, fp, test)
        assert (decision.emit, decision.duplicates_suppressed) == expected, (kind, t, fp, test)
        suppressed += not decision.emit
        carried += decision.duplicates_suppressed
    # every suppression is reported exactly once: in an emission, or still pending
    assert carried + (state.suppressed if state else 0) == suppressed


@pytest.mark.parametrize("kind", KINDS)
def test_a_redelivery_is_suppressed_whatever_the_state(kind: MessageType) -> None:
    _, state = decide(None, facts("CRITICAL", 1, "event:same"), 5)
    for follow in KINDS:
        _, state = decide(state, facts(follow, 2, f"event:other-{follow}"), 5)
        decision, _ = decide(state, facts(kind, 3, "event:same"), 5)
        assert (decision.emit, decision.reason) == (False, "redelivery")


def one_pass(
    sequence: list[tuple[MessageType, int, str, bool]],
) -> tuple[set[tuple[int, int]], IncidentState | None]:
    state: IncidentState | None = None
    emitted = set()
    for offset, (kind, t, fp, test) in enumerate(sequence):
        decision, state = decide(state, AlertFacts(kind, t, t, fp, test), now=100)
        if decision.emit:
            emitted.add((offset, decision.duplicates_suppressed))
    return emitted, state


# Crashes of a worker: after `steps` decisions since its last checkpoint, `checkpointed` of
# them had been committed (state and offsets together, as quixstreams commits them).
crashes = st.lists(st.tuples(st.integers(1, 30), st.integers(0, 30)), max_size=4)


@settings(max_examples=1500, deadline=None)
@given(sequence=events, crash_points=crashes)
def test_decisions_redone_from_a_checkpoint_emit_what_one_clean_pass_emits(
    sequence: list[tuple[MessageType, int, str, bool]],
    crash_points: list[tuple[int, int]],
) -> None:
    """The worker's contract with this module: after a crash it decides again, from the last
    checkpoint's state, the alerts after that checkpoint's offset. Every emission, repeats
    aside, is that of one clean pass (same duplicates_suppressed), and so is the end state."""
    expected, final = one_pass(sequence)
    emitted: set[tuple[int, int]] = set()
    stored: IncidentState | None = None  # the last checkpoint's state
    committed = 0  # the last checkpoint's offset
    for steps, checkpointed in [*crash_points, (len(sequence) + 1, 0)]:
        state, cursor = stored, committed
        snapshots = [(state, cursor)]
        while cursor < len(sequence) and cursor - committed < steps:
            kind, t, fp, test = sequence[cursor]
            decision, state = decide(state, AlertFacts(kind, t, t, fp, test), now=100)
            if decision.emit:
                emitted.add((cursor, decision.duplicates_suppressed))
            cursor += 1
            snapshots.append((state, cursor))
        if cursor >= len(sequence):
            stored = state
            break
        stored, committed = snapshots[min(checkpointed, len(snapshots) - 1)]
    assert emitted == expected
    assert stored == final
