"""The replay core: raw records through the worker's own stage 1 and stage 2 functions."""

from __future__ import annotations

import json

from processors.incidents import DAY_MS, IncidentPolicy
from processors.pipeline import RawInput
from processors.replay import Outcome, OutcomeFilter, Replayer, Summary, outcome_json
from schemas.normalized import RawRef, alert_id_for
from tests.processors.helpers import RECEIVED_AT, raw_input


def generic(kind: str, t: int, entity: str = "disk/db1", n: int = 0) -> bytes:
    return json.dumps({"message_type": kind, "entity_id": entity, "timestamp": t, "n": n}).encode()


def feed_all(replayer: Replayer, raws: list[RawInput]) -> list[Outcome]:
    return [o for raw in raws for o in replayer.feed(raw, RECEIVED_AT)]


def brief_scenario() -> list[RawInput]:
    """trigger, trigger (another body), the same body again, clear, late trigger, trigger."""
    bodies = [
        generic("CRITICAL", 100, n=1),
        generic("CRITICAL", 110, n=2),
        generic("CRITICAL", 110, n=2),
        generic("RECOVERY", 200, n=3),
        generic("CRITICAL", 150, n=4),
        generic("CRITICAL", 300, n=5),
    ]
    return [raw_input("generic", b, offset=10 + i) for i, b in enumerate(bodies)]


def test_the_brief_scenario_decides_as_the_worker_does() -> None:
    outcomes = feed_all(Replayer({}, IncidentPolicy()), brief_scenario())

    assert [(o.kind, o.reason, o.duplicates_suppressed) for o in outcomes] == [
        ("alert", "open", 0),
        ("suppressed", "duplicate", 0),
        ("suppressed", "redelivery", 0),
        ("alert", "resolve", 2),
        ("suppressed", "late", 0),
        ("alert", "open", 1),
    ]
    for i, outcome in enumerate(outcomes):
        assert outcome.alert is not None
        assert outcome.alert.alert_id == alert_id_for(RawRef("alerts.raw", 2, 10 + i), 0)
    emitted = [json.loads(o.emitted) for o in outcomes if o.emitted is not None]
    assert [(a["message_type"], a["duplicates_suppressed"]) for a in emitted] == [
        ("CRITICAL", 0),
        ("RECOVERY", 2),
        ("CRITICAL", 1),
    ]
    assert all(o.emitted is None for o in outcomes if o.kind == "suppressed")


def test_a_range_starting_mid_incident_decides_differently() -> None:
    """Documented: state starts empty, so the second trigger opens instead of repeating."""
    outcomes = feed_all(Replayer({}, IncidentPolicy()), brief_scenario()[1:])
    assert (outcomes[0].kind, outcomes[0].reason) == ("alert", "open")


def test_a_dead_letter_keeps_its_code_and_path() -> None:
    raw = raw_input("generic", b'{"message_type":"INFO","entity_id":""}')
    [outcome] = Replayer({}, IncidentPolicy()).feed(raw, RECEIVED_AT)
    assert (outcome.kind, outcome.reason) == ("dead_letter", "schema")
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.path == "$.entity_id"
    assert outcome_json(outcome)["error"]["path"] == "$.entity_id"


def test_state_is_kept_per_incident_not_per_record() -> None:
    replayer = Replayer({}, IncidentPolicy())
    for n in range(500):  # INFO holds no state
        replayer.feed(raw_input("generic", generic("INFO", 1, f"info-{n}"), offset=n), RECEIVED_AT)
    assert replayer.states == {}
    for n in range(1000):
        body = generic("CRITICAL", 1 + n, f"inc-{n % 10}", n)
        replayer.feed(raw_input("generic", body, offset=1000 + n), RECEIVED_AT)
    assert len(replayer.states) == 10


def test_ttls_count_from_the_record_time() -> None:
    """A resolved incident is forgotten 7 days (the TTL) after it was last seen, by the time of
    the record being replayed, not by the clock of the replay."""
    policy = IncidentPolicy(resolved_ttl_ms=7 * DAY_MS)
    later = RECEIVED_AT + 8 * DAY_MS

    def second_recovery(at: int) -> str:
        replayer = Replayer({}, policy)
        replayer.feed(raw_input("generic", generic("RECOVERY", 1), offset=1), RECEIVED_AT)
        raw = raw_input("generic", generic("RECOVERY", 2), offset=2, received_at=at)
        return replayer.feed(raw, at)[0].reason

    assert second_recovery(RECEIVED_AT + 1000) == "resolved_again"
    assert second_recovery(later) == "unknown_incident"


def test_filters_and_summary() -> None:
    replayer = Replayer({}, IncidentPolicy())
    a = raw_input("generic", generic("CRITICAL", 1), org="acme", routing_key="OPS")
    b = raw_input("generic", generic("CRITICAL", 1), org="other", offset=8)
    only_acme = OutcomeFilter(org="acme")
    assert only_acme.replays(a.headers)
    assert not only_acme.replays(b.headers)
    [outcome] = replayer.feed(a, RECEIVED_AT)
    assert only_acme.shows(outcome)
    assert OutcomeFilter(routing_key="ops").shows(outcome)
    assert not OutcomeFilter(routing_key="db").shows(outcome)
    assert not OutcomeFilter(source="pingometer").shows(outcome)

    summary = Summary()
    for o in feed_all(Replayer({}, IncidentPolicy()), brief_scenario()):
        summary.add(o)
    assert summary.lines() == [
        "alerts: 3 (open 2, resolve 1)",
        "suppressed: 3 (duplicate 1, late 1, redelivery 1)",
        "dead letters: 0",
    ]
