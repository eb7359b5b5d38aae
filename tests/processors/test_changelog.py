"""The incident changelog read back (``processors.changelog``), on records a real worker wrote
(quixstreams 3.28.1; captured from `alertpipe worker` with ALERTPIPE_RESOLVED_TTL_S=2, before
the states recorded their opening alert): ``at-least-once.json`` on one partition (applied
offsets beside the states, the resolved q-3 swept by quixstreams' TTL: a tombstone),
``exactly-once.json`` on two (q-3's stamp past, its sweep not yet run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from processors.changelog import (
    STATE_KEY,
    ChangelogFormatError,
    IncidentFilter,
    IncidentTable,
    current,
    incident_key_of,
    unstamped,
)
from processors.incidents import IncidentPolicy, IncidentState, decode_state, encode_state
from processors.worker import topology

FIXTURES = Path(__file__).parent / "changelog_records"
POLICY = IncidentPolicy(resolved_ttl_ms=2_000)
WRITTEN_AT = 1_796_183_527_000  # just after the capture (epoch ms)


def table_of(name: str) -> IncidentTable:
    table = IncidentTable()
    for r in json.loads((FIXTURES / name).read_text()):
        table.feed(*fields_of(r))
    return table


def fields_of(r: dict[str, Any]) -> tuple[Any, ...]:
    value = bytes.fromhex(r["value"]) if r["value"] is not None else None
    headers = [(k, bytes.fromhex(v)) for k, v in r["headers"]]
    return bytes.fromhex(r["key"]), value, headers, r["partition"], r["offset"]


def test_the_state_key_is_the_workers() -> None:
    assert STATE_KEY == topology.STATE_KEY


def test_keys_are_the_incident_key_a_bar_and_the_json_state_key() -> None:
    assert incident_key_of(b'acme/db-1|"state"') == "acme/db-1"
    assert incident_key_of(b'acme/a|b/c|"state"') == "acme/a|b/c"  # a bar in an entity id
    assert incident_key_of(b'acme/db-1|"applied"') is None
    assert incident_key_of(b"__ttl_migration_done__") is None
    assert incident_key_of(None) is None


def test_latest_value_wins_tombstones_delete_other_keys_are_skipped() -> None:
    table = table_of("at-least-once.json")
    assert table.records == 13
    held = {i.incident_key: i for i in table.held()}
    assert sorted(held) == ["acme/db-1", "acme/web-2"]  # q-3 swept, x-9 (INFO) never held
    web = held["acme/web-2"]
    assert (web.state.status, web.state.severity, web.state.events) == (
        "acknowledged",
        "WARNING",
        2,
    )
    assert (web.partition, web.offset) == (0, 11)
    db = held["acme/db-1"]
    assert (db.state.status, db.state.events, db.state.suppressed) == ("open", 2, 1)
    assert db.state.last_seen - db.state.first_seen == 1_000
    # written before the state recorded its opener: readable, with nothing there
    assert (db.state.opened_by, db.state.source) == (None, None)
    # the TTL stamp: the time of the record that wrote it (about last_seen here) + the TTL
    assert db.expires_at is not None
    assert abs(db.expires_at - POLICY.open_ttl_ms - db.state.last_seen) < 5_000


def test_an_expired_state_is_not_current_before_its_sweep() -> None:
    table = table_of("exactly-once.json")
    assert sorted(i.incident_key for i in table.held()) == ["acme/db-1", "acme/q-3", "acme/web-2"]
    now = [i.incident_key for i in current(table.held(), WRITTEN_AT, POLICY)]
    assert now == ["acme/db-1", "acme/web-2"]  # q-3 resolved more than 2 s ago
    q3 = table.get("acme", "q-3")
    assert q3 is not None
    assert q3.expired(WRITTEN_AT, POLICY)
    assert not q3.expired(q3.state.last_seen + 1_000, POLICY)


def test_filters() -> None:
    held = table_of("exactly-once.json").held()
    acked = current(held, WRITTEN_AT, POLICY, IncidentFilter(status="acknowledged"))
    assert [i.entity_id for i in acked] == ["web-2"]
    assert current(held, WRITTEN_AT, POLICY, IncidentFilter(org="other")) == []
    assert current(held, WRITTEN_AT, POLICY, IncidentFilter(source="generic")) == []  # unknown


def test_the_team_filter_reads_the_teams_the_state_records() -> None:
    table = IncidentTable()
    for key, teams in ((b"o/db", ("dba", "dba-lead")), (b"o/web", ("web",)), (b"o/old", ())):
        state = IncidentState("open", "CRITICAL", 1, 1, 1, 1, 0, (), "a-1", "generic", teams)
        table.feed(key + b'|"state"', encode_state(state), [], 0, 0)
    found = current(table.held(), 2, POLICY, IncidentFilter(team="dba-lead"))
    assert [i.entity_id for i in found] == ["db"]
    assert current(table.held(), 2, POLICY, IncidentFilter(team="noc")) == []


def test_unstamped_values_and_the_never_stamp() -> None:
    state = IncidentState("open", "CRITICAL", 1, 1, 1, 1, 0, (), "a-1", "generic")
    ours = encode_state(state)
    assert unstamped(ours, []) == (None, ours)  # a store from before quixstreams' TTL
    stamped = [("__ttl_stamped__", b"\x01")]
    assert unstamped(b"\xff" * 8 + ours, stamped) == (None, ours)
    assert unstamped(b"\x00\x00\x00\x00\x00\x00\x00\x07" + ours, stamped) == (7, ours)
    with pytest.raises(ChangelogFormatError):
        unstamped(b"\x01", stamped)
    table = IncidentTable()
    table.feed(b'o/e|"state"', ours, [("__column_family__", b"default")], 0, 0)
    held = table.get("o", "e")
    assert held is not None
    assert held.state == state
    assert held.expires_at is None


def test_a_state_it_cannot_read_names_where_it_is() -> None:
    table = IncidentTable()
    with pytest.raises(ChangelogFormatError, match="o/e at partition 2 offset 9"):
        table.feed(b'o/e|"state"', b"not json", [], 2, 9)


def test_states_of_older_and_newer_versions_decode() -> None:
    old = b'{"status":"open","severity":"WARNING","last_transition":1,"first_seen":1,'
    old += b'"last_seen":2,"events":1,"suppressed":0,"fingerprints":["body:x"]}'
    assert decode_state(old).opened_by is None
    assert decode_state(old).teams == ()  # written before states kept teams
    newer = old[:-1] + b',"opened_by":"a-1","source":"generic","teams":["dba"],"future_field":3}'
    decoded = decode_state(newer)
    assert (decoded.opened_by, decoded.source, decoded.fingerprints, decoded.teams) == (
        "a-1",
        "generic",
        ("body:x",),
        ("dba",),
    )
