"""Grafana alerting's webhook contact point, a declarative source: every sample through
parse -> validate -> map -> route, field by field, and its incidents through stage 2."""

from __future__ import annotations

import json

import pytest

from processors.pipeline import process_raw
from schemas.registry import load_sources
from tests.processors.helpers import (
    RECEIVED_AT,
    SourceUnderTest,
    decide_in_order,
    raw_input,
)

SOURCE = "grafana"


MAPPED = SourceUnderTest(SOURCE)
alerts_of, sample = MAPPED.alerts_of, MAPPED.sample


def test_every_sample_maps_to_valid_alerts_one_per_element() -> None:
    samples = load_sources()[SOURCE].samples
    assert {p.name for p in samples} >= {"firing-two.json", "resolved.json"}
    for path in samples:
        body = path.read_bytes()
        assert len(alerts_of(body)) == len(json.loads(body)["alerts"]), path.name


def test_two_firing_alerts() -> None:
    memory, cpu = alerts_of(sample("firing-two.json"))
    assert memory["source"] == "grafana"
    assert (memory["message_type"], cpu["message_type"]) == ("WARNING", "CRITICAL")
    assert memory["entity_id"] == "grafana:4d8e0c7b2a915f36"
    assert cpu["entity_id"] == "grafana:9a0b1c2d3e4f5a6b"
    assert memory["entity_display_name"] == "High memory usage"
    assert memory["state_message"] == (
        "Memory above 90% in zone us-1\nResident memory of the web tier is at 93%."
    )
    assert memory["monitoring_tool"] == "Grafana"
    assert memory["event_time"] == 1_742_240_463_157  # 20:41:03.157076+01:00
    assert cpu["event_time"] == 1_742_240_763_157
    assert memory["is_test"] is False
    assert memory["annotations"] == [
        {
            "kind": "url",
            "title": "Alert rule",
            "value": "https://grafana.example.com/alerting/grafana/aDn8c0z4k/view?orgId=1",
        },
        {
            "kind": "url",
            "title": "Dashboard",
            "value": "https://grafana.example.com/d/web-tier?orgId=1",
        },
        {
            "kind": "url",
            "title": "Panel",
            "value": "https://grafana.example.com/d/web-tier?orgId=1&viewPanel=4",
        },
        {
            "kind": "url",
            "title": "Silence",
            "value": "https://grafana.example.com/alerting/silence/new?alertmanager=grafana"
            "&matcher=alertname%3DHigh+memory+usage&matcher=team%3Dblue&matcher=zone%3Dus-1",
        },
        {"kind": "url", "title": "Runbook", "value": "https://runbooks.example.com/memory"},
        {"kind": "url", "title": "Grafana", "value": "https://grafana.example.com/"},
    ]
    # empty dashboardURL and panelURL make no link
    assert [a["title"] for a in cpu["annotations"]] == ["Alert rule", "Silence", "Grafana"]
    details = memory["details"]
    assert details["values"] == {"B": 93.21, "C": 1}
    assert details["valueString"].startswith("[ var='B' labels={zone=us-1} value=93.21 ]")
    assert details["labels"]["grafana_folder"] == "Infra"
    assert (details["orgId"], details["state"], details["title"]) == (
        1,
        "alerting",
        "[FIRING:2] Infra (blue)",
    )
    assert details["receiver"] == "alertpipe"
    assert details["truncatedAlerts"] == 0
    assert "message" not in details


def test_a_resolved_alert() -> None:
    [alert] = alerts_of(sample("resolved.json"))
    assert alert["message_type"] == "RECOVERY"
    assert alert["entity_id"] == "grafana:4d8e0c7b2a915f36"
    assert alert["event_time"] == 1_742_241_123_000  # endsAt 19:52:03Z
    assert "values" not in alert["details"]  # null values are left out
    assert alert["details"]["state"] == "ok"


def test_the_contact_points_test_button_is_a_test_not_an_incident() -> None:
    [alert] = alerts_of(sample("test-notification.json"))
    assert (alert["message_type"], alert["is_test"]) == ("INFO", True)
    assert alert["state_message"] == "Notification test"
    result = process_raw(raw_input(SOURCE, sample("test-notification.json")), {})
    assert decide_in_order([result], RECEIVED_AT) == [(alert["entity_id"], True, "test")]


def test_a_rule_named_testalert_elsewhere_is_not_a_test() -> None:
    body = {
        "alerts": [{"status": "firing", "labels": {"alertname": "TestAlert", "instance": "db1"}}]
    }
    [alert] = alerts_of(json.dumps(body).encode())
    assert (alert["message_type"], alert["is_test"]) == ("CRITICAL", False)


def test_the_group_message_stands_in_when_an_alert_has_no_summary() -> None:
    body = {
        "message": "Custom message template output",
        "alerts": [{"status": "firing", "labels": {"alertname": "X"}, "annotations": {}}],
    }
    [alert] = alerts_of(json.dumps(body).encode())
    assert alert["state_message"] == "Custom message template output"
    assert alert["entity_id"].startswith("grafana:labels:")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"alerts": []}', "$.alerts"),
        (b'{"orgId": "1", "alerts": [{"status": "firing", "labels": {}}]}', "$.orgId"),
        (
            b'{"alerts": [{"status": "firing", "labels": {}, "values": {"B": "x"}}]}',
            "$.alerts[0].values.B",
        ),
    ],
)
def test_bodies_grafana_does_not_send_are_dead_letters(body: bytes, path: str) -> None:
    result = process_raw(raw_input(SOURCE, body), {})
    assert result.dead_letter is not None
    assert (result.dead_letter.code, result.dead_letter.path) == ("schema", path)


def test_incidents_open_and_resolve_by_fingerprint() -> None:
    firing = process_raw(raw_input(SOURCE, sample("firing-two.json"), offset=1), {})
    resolved = process_raw(raw_input(SOURCE, sample("resolved.json"), offset=2), {})
    assert decide_in_order([firing, resolved], RECEIVED_AT + 1) == [
        ("grafana:4d8e0c7b2a915f36", True, "open"),
        ("grafana:9a0b1c2d3e4f5a6b", True, "open"),
        ("grafana:4d8e0c7b2a915f36", True, "resolve"),
    ]
