"""The readable lines of replay and tail (colours are dropped off a terminal by click)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import click

from alertpipe.cli.render import outcome_line, route_text
from alertpipe.cli.tail import view
from processors.incidents import IncidentPolicy
from processors.replay import Replayer
from processors.routing import config_from_json
from tests.processors.helpers import RECEIVED_AT, raw_input


def plain(text: str) -> str:
    return click.unstyle(text)


def test_route_text_says_where_an_alert_went_and_why() -> None:
    assert route_text({"reason": "matched", "teams": ["db"]}, "db") == "db -> db"
    assert route_text({"reason": "rule", "teams": ["n"], "rule": "r1"}, "net") == (
        "net by rule r1 -> n"
    )
    assert route_text({"reason": "unknown", "teams": ["noc"]}, None) == "(default: unknown) -> noc"
    assert route_text({"reason": "missing", "teams": []}, None) == "(default: missing) -> nobody"
    assert route_text({"reason": "no_routes", "teams": []}, None) == (
        "(no routes for the org) -> nobody"
    )


def test_outcome_lines() -> None:
    routes = {"acme": config_from_json("acme", {"routes": {"ops": ["night-shift"]}})}
    replayer = Replayer(routes, IncidentPolicy())
    body = b'{"message_type":"CRITICAL","entity_id":"disk/db1","timestamp":1}'
    [opened] = replayer.feed(raw_input("generic", body, routing_key="OPS", offset=3), RECEIVED_AT)
    [again] = replayer.feed(raw_input("generic", body, routing_key="OPS", offset=4), RECEIVED_AT)
    [dead] = replayer.feed(raw_input("generic", b"{x", offset=5), RECEIVED_AT)

    line = plain(outcome_line(opened))
    assert line.split()[1:8] == [
        "alerts.raw:2:3",
        "acme",
        "generic",
        "alert",
        "open",
        "CRITICAL",
        "disk/db1",
    ]
    assert "ops -> night-shift" in line
    assert opened.alert is not None
    assert line.endswith(opened.alert.alert_id)
    assert plain(outcome_line(again)).split()[4:6] == ["suppressed", "redelivery"]
    dead_line = plain(outcome_line(dead))
    assert dead_line.split()[4:7] == ["dead", "letter", "invalid_json"]
    assert "at $: body is not valid JSON" in dead_line


def record(value: bytes, headers: list[tuple[str, bytes]]) -> SimpleNamespace:
    return SimpleNamespace(
        topic="t", partition=1, offset=9, timestamp=RECEIVED_AT, value=value, headers=headers
    )


def test_tail_views_of_each_kind_and_of_odd_records() -> None:
    alert = {"org": "acme", "source": "generic", "message_type": "RECOVERY", "entity_id": "e",
             "routing_key": "ops", "routing": {"reason": "matched", "teams": ["a"]}}  # fmt: skip
    org, source, line, data = view("normalized", record(json.dumps(alert).encode(), []))
    assert (org, source) == ("acme", "generic")
    assert plain(line).split()[1:5] == ["t:1:9", "acme", "RECOVERY", "e"]  # the ref for explain
    assert data["alert"] == alert
    assert data["ref"] == "t:1:9"

    org, _, line, data = view("normalized", record(b"[1]", []))
    assert org is None
    assert "not a normalized alert" in line

    headers = [("org", b"acme"), ("source", b"generic"), ("error.code", b"schema"),
               ("error.path", b"$.x"), ("error.message", b"bad"), ("raw.topic", b"r"),
               ("raw.partition", b"2"), ("raw.offset", b"7")]  # fmt: skip
    org, source, line, data = view("dead-letter", record(b"{}", headers))
    assert "schema" in plain(line)
    assert plain(line).split()[1] == "t:1:9"  # the dead letter itself: explain leads to r:2:7
    assert (data["ref"], data["raw_ref"]) == ("t:1:9", "r:2:7")
    assert "at $.x: bad" in plain(line)
    assert data["error"] == {"code": "schema", "path": "$.x", "message": "bad"}

    org, source, line, data = view("raw", record(b"{}", [("org", b"acme"), ("source", b"x")]))
    assert (org, source) == ("acme", "x")
    assert plain(line).endswith("2 bytes")
    assert plain(line).split()[1] == data["ref"] == "t:1:9"
