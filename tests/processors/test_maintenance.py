"""Maintenance windows, pure: which window covers an alert, how the delivered bytes carry it,
and the window records' codec."""

from __future__ import annotations

import json

import pytest

from kafkaio.topics import MAINTENANCE_MS
from processors.incidents import IncidentPolicy
from processors.maintenance import (
    MAX_WINDOW_MS,
    RETENTION_MS,
    TAKES_EFFECT_MS,
    MaintenanceError,
    MaintenanceWindow,
    covering,
    decode_window,
    encode_window,
    ended,
    group_by_org,
    mark_emitted,
    new_window,
)
from processors.pipeline import process_raw
from processors.replay import Replayer, outcome_json
from schemas.normalized import with_maintenance
from tests.processors.helpers import RECEIVED_AT, alert_validator, raw_input

T = RECEIVED_AT
HOUR = 3_600_000


def window(
    wid: str = "mw-1", start: int = T - HOUR, until: int = T + HOUR, **scope: str
) -> MaintenanceWindow:
    return MaintenanceWindow(wid, "acme", start, until, "db upgrade", **scope)  # type: ignore[arg-type]


def alert_bytes(entity: str = "disk/db1", routing_key: str = "team-a", at: int = T) -> bytes:
    body = json.dumps({"message_type": "CRITICAL", "entity_id": entity}).encode()
    raw = raw_input("generic", body, routing_key=routing_key, received_at=at)
    return process_raw(raw, {}).encoded[0]


def alert(**kwargs: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(alert_bytes(**kwargs))  # type: ignore[arg-type]
    return data


def test_active_from_start_inclusive_to_until_exclusive_on_received_at() -> None:
    w = window(start=T, until=T + 1000)
    assert covering([w], alert(at=T)) == w
    assert covering([w], alert(at=T + 999)) == w
    assert covering([w], alert(at=T + 1000)) is None
    assert covering([w], alert(at=T - 1)) is None


def test_every_filter_given_must_match() -> None:
    assert covering([window(source="generic")], alert()) is not None
    assert covering([window(source="grafana")], alert()) is None
    assert covering([window(entity_id="disk/db1")], alert()) is not None
    assert covering([window(entity_id="disk/db2")], alert()) is None
    both = window(source="generic", entity_id="disk/db2")
    assert covering([both], alert()) is None
    # the routing key as sent (any case) or as resolved
    assert covering([window(routing_key="team-a")], alert(routing_key="Team-A")) is not None
    assert covering([window(routing_key="team-b")], alert(routing_key="team-a")) is None


def test_of_several_windows_the_longest_lasting_then_earliest_then_smallest_id() -> None:
    short, long_ = window("mw-b", until=T + HOUR), window("mw-c", until=T + 2 * HOUR)
    assert covering([short, long_], alert()) == long_
    assert covering([long_, short], alert()) == long_
    early, late = window("mw-z", start=T - 2 * HOUR), window("mw-a", start=T - HOUR)
    assert covering([late, early], alert()) == early
    assert covering([window("mw-2"), window("mw-1")], alert()).id == "mw-1"  # type: ignore[union-attr]


def test_an_uncovered_alert_keeps_its_bytes() -> None:
    value = alert_bytes()
    assert mark_emitted(value, b"acme/disk/db1", {}) == (value, None)
    other_org = group_by_org([MaintenanceWindow("mw-1", "other", 0, T * 2, "r")])
    assert mark_emitted(value, b"acme/disk/db1", other_org) == (value, None)
    ended_before = group_by_org([window(until=T)])
    assert mark_emitted(value, b"acme/disk/db1", ended_before) == (value, None)


def test_a_covered_alert_carries_the_window_and_stays_valid() -> None:
    value = alert_bytes()
    w = window()
    marked, found = mark_emitted(value, b"acme/disk/db1", group_by_org([w]))
    assert found == w
    data = json.loads(marked)
    assert data["maintenance"] == {"id": "mw-1", "reason": "db upgrade", "until": T + HOUR}
    assert not list(alert_validator().iter_errors(data))
    # only the stamp was added, in front of duplicates_suppressed
    assert marked.replace(b',"maintenance":' + json.dumps(
        data["maintenance"], separators=(",", ":")).encode(), b"") == value  # fmt: skip
    assert list(data)[-3:] == ["maintenance", "duplicates_suppressed", "schema_version"]


def test_the_stamp_goes_after_details_that_hold_the_same_key() -> None:
    value = b'{"details":{"x":{"duplicates_suppressed":1}},"duplicates_suppressed":2,'
    value += b'"schema_version":1}'
    marked = json.loads(with_maintenance(value, {"id": "m", "reason": "r", "until": 1}))
    assert marked["details"] == {"x": {"duplicates_suppressed": 1}}
    assert marked["maintenance"]["id"] == "m"


def test_new_window_checks_its_length_and_reason() -> None:
    w = new_window("mw-1", "acme", T, T + HOUR, " deploy ", routing_key="DB")
    start = T + TAKES_EFFECT_MS  # every worker has it by then
    got = (w.start, w.until, w.reason, w.routing_key, w.created_at)
    assert got == (start, T + HOUR, "deploy", "db", T)
    with pytest.raises(MaintenanceError, match="before it starts"):
        new_window("mw-1", "acme", T, start, "r")
    with pytest.raises(MaintenanceError, match="30 days"):
        new_window("mw-1", "acme", T, start + MAX_WINDOW_MS + 1, "r")
    with pytest.raises(MaintenanceError, match="reason"):
        new_window("mw-1", "acme", T, T + 1, "  ")
    assert RETENTION_MS == MAINTENANCE_MS  # the topic keeps ended windows 60 days at least


def test_end_moves_until_and_keeps_the_window() -> None:
    w = window()
    over = ended(w, T)
    end = T + TAKES_EFFECT_MS
    assert (over.until, over.ended_at, over.end, over.start) == (w.until, end, end, w.start)
    assert covering([over], alert(at=end - 1)) == over
    assert covering([over], alert(at=end)) is None
    # the stamp keeps the planned end: a replay after `end` writes the bytes delivered before
    assert over.stamp() == w.stamp()
    with pytest.raises(MaintenanceError, match="already over"):
        ended(over, T + 1)
    with pytest.raises(MaintenanceError, match="already over"):
        ended(window(until=T), T)


def test_window_records_round_trip() -> None:
    w = ended(window(routing_key="db", source="generic", entity_id="e"), T)
    assert decode_window(encode_window(w)) == w
    for bad in (b"{", b"[]", b'{"id":"x"}'):
        with pytest.raises(MaintenanceError):
            decode_window(bad)


def test_replay_shows_the_window_of_each_emitted_alert() -> None:
    w = window(start=T, until=T + 1000)
    replayer = Replayer({}, IncidentPolicy(), maintenance=group_by_org([w]))
    bodies = [("CRITICAL", "a", T - 1), ("CRITICAL", "b", T), ("CRITICAL", "c", T + 1000)]
    outcomes = []
    for offset, (kind, entity, at) in enumerate(bodies):
        body = json.dumps({"message_type": kind, "entity_id": entity}).encode()
        outcomes += replayer.feed(raw_input("generic", body, offset=offset, received_at=at), at)
    assert [o.maintenance for o in outcomes] == [None, w, None]
    assert [b"maintenance" in (o.emitted or b"") for o in outcomes] == [False, True, False]
    assert "maintenance" not in outcome_json(outcomes[0])
    assert outcome_json(outcomes[1])["maintenance"]["id"] == "mw-1"
