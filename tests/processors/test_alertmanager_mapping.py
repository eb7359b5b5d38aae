"""Prometheus Alertmanager (webhook payload version 4), a declarative source: every sample
through parse -> validate -> map -> route, field by field, and its incidents through stage 2."""

from __future__ import annotations

import json

import pytest

from processors.mapvalues import labels_hash
from processors.pipeline import process_raw
from schemas.normalized import RawRef, alert_id_for
from schemas.registry import load_sources
from tests.processors.helpers import (
    RECEIVED_AT,
    SourceUnderTest,
    decide_in_order,
    raw_input,
)

SOURCE = "alertmanager"


MAPPED = SourceUnderTest(SOURCE)
alerts_of, sample = MAPPED.alerts_of, MAPPED.sample


def test_every_sample_maps_to_valid_alerts_one_per_element() -> None:
    samples = load_sources()[SOURCE].samples
    assert {p.name for p in samples} >= {"firing.json", "multi.json", "resolved.json"}
    for path in samples:
        body = path.read_bytes()
        assert len(alerts_of(body)) == len(json.loads(body)["alerts"]), path.name


def test_a_firing_alert() -> None:
    [alert] = alerts_of(sample("firing.json"))
    assert alert["source"] == "alertmanager"
    assert alert["message_type"] == "CRITICAL"  # severity=critical
    assert alert["entity_id"] == "alertmanager:5f3c6b1a9e2d4c07"
    assert alert["incident_key"] == "acme/alertmanager:5f3c6b1a9e2d4c07"
    assert alert["entity_display_name"] == "InstanceDown on db1.example.com:9100"
    assert alert["state_message"] == (
        "db1.example.com:9100 is down\n"
        "db1.example.com:9100 of job node has been unreachable for more than 5 minutes."
    )
    assert alert["monitoring_tool"] == "Prometheus Alertmanager"
    assert alert["hostname"] == "db1.example.com:9100"
    assert alert["event_time"] == 1_742_240_412_345  # startsAt, nanoseconds cut to ms
    assert alert["received_at"] == RECEIVED_AT
    assert alert["is_test"] is False
    assert alert["annotations"] == [
        {
            "kind": "url",
            "title": "Source",
            "value": "http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
        },
        {"kind": "url", "title": "Alertmanager", "value": "http://alertmanager.example.com:9093"},
        {"kind": "url", "title": "Runbook", "value": "https://runbooks.example.com/InstanceDown"},
    ]
    details = alert["details"]
    assert details["labels"]["job"] == "node"
    assert details["annotations"]["runbook_url"] == "https://runbooks.example.com/InstanceDown"
    assert details["status"] == "firing"
    assert details["startsAt"] == "2025-03-17T19:40:12.345678901Z"
    assert details["endsAt"] == "0001-01-01T00:00:00Z"
    assert details["receiver"] == "alertpipe"
    assert details["groupKey"] == '{}/{severity="critical"}:{alertname="InstanceDown"}'
    assert details["groupLabels"] == {"alertname": "InstanceDown"}
    assert details["truncatedAlerts"] == 0


def test_a_body_of_three_alerts_is_three_alerts_with_their_own_ids() -> None:
    alerts = alerts_of(sample("multi.json"), offset=42)
    assert [(a["message_type"], a["entity_id"]) for a in alerts] == [
        ("WARNING", "alertmanager:0a1b2c3d4e5f6071"),  # severity=warning
        ("CRITICAL", "alertmanager:1b2c3d4e5f607182"),  # no severity label: it pages
        ("RECOVERY", "alertmanager:2c3d4e5f60718293"),  # resolved
    ]
    assert [a["alert_id"] for a in alerts] == [
        alert_id_for(RawRef("alerts.raw", 2, 42), i) for i in range(3)
    ]
    assert alerts[0]["event_time"] == 1_742_236_860_000  # 19:41 at +01:00
    assert alerts[1]["entity_display_name"] == "ErrorBudgetBurn"  # no instance label
    assert alerts[1]["hostname"] is None
    assert alerts[1]["state_message"] == "The api error budget burns 14x faster than allowed."
    assert alerts[2]["event_time"] == 1_742_236_980_000  # resolved: endsAt 18:43
    assert all(a["routing"]["requested"] == "team-a" for a in alerts)


def test_a_resolved_alert_takes_its_end_time() -> None:
    [alert] = alerts_of(sample("resolved.json"))
    assert alert["message_type"] == "RECOVERY"
    assert alert["entity_id"] == "alertmanager:5f3c6b1a9e2d4c07"  # the same incident
    assert alert["event_time"] == 1_742_241_342_500


def test_without_a_fingerprint_the_labels_are_the_identity() -> None:
    [alert] = alerts_of(sample("no-fingerprint.json"))
    labels = json.loads(sample("no-fingerprint.json"))["alerts"][0]["labels"]
    assert alert["entity_id"] == f"alertmanager:labels:{labels_hash(labels)}"
    assert alert["message_type"] == "INFO"  # severity=info
    assert alert["state_message"] == "DiskFull is firing"  # no annotations
    assert "fingerprint" not in alert["details"]
    reordered = dict(reversed(list(labels.items())))
    body = json.dumps({"alerts": [{"status": "firing", "labels": reordered}]}).encode()
    assert alerts_of(body)[0]["entity_id"] == alert["entity_id"]


def firing(severity: str | None, status: str = "firing") -> bytes:
    labels = {"alertname": "A"} | ({"severity": severity} if severity is not None else {})
    return json.dumps({"alerts": [{"status": status, "labels": labels}]}).encode()


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("critical", "CRITICAL"),
        (" Critical ", "CRITICAL"),
        ("page", "CRITICAL"),
        ("error", "CRITICAL"),
        ("warning", "WARNING"),
        ("WARN", "WARNING"),
        ("low", "WARNING"),
        ("info", "INFO"),
        ("none", "INFO"),  # kube-prometheus' Watchdog
        ("", "CRITICAL"),
        ("sev2", "CRITICAL"),  # unknown: it pages
        (None, "CRITICAL"),
    ],
)
def test_the_severity_label_sets_the_message_type_of_a_firing_alert(
    severity: str | None, expected: str
) -> None:
    assert alerts_of(firing(severity))[0]["message_type"] == expected
    assert alerts_of(firing(severity, "resolved"))[0]["message_type"] == "RECOVERY"


def test_a_minimal_alert_maps_with_defaults() -> None:
    [alert] = alerts_of(firing(None))
    assert alert["entity_display_name"] == "A"
    assert alert["state_message"] == "A is firing"
    assert alert["event_time"] == RECEIVED_AT  # no startsAt: when it was received
    assert alert["annotations"] == []


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"alerts": []}', "$.alerts"),
        (b'{"alerts": [{"status": "pending", "labels": {}}]}', "$.alerts[0].status"),
        (b'{"alerts": [{"status": "firing", "labels": {"a": 1}}]}', "$.alerts[0].labels.a"),
        (b'{"version": "3", "alerts": [{"status": "firing", "labels": {}}]}', "$.version"),
        (b'{"status": "firing"}', "$"),
    ],
)
def test_bodies_that_are_not_alertmanager_version_4_are_dead_letters(
    body: bytes, path: str
) -> None:
    result = process_raw(raw_input(SOURCE, body), {})
    assert result.dead_letter is not None
    assert (result.dead_letter.code, result.dead_letter.path) == ("schema", path)


def test_incidents_open_repeat_and_resolve_by_fingerprint() -> None:
    """Alertmanager repeats a firing group every repeat_interval, then sends it resolved."""
    first = process_raw(raw_input(SOURCE, sample("firing.json"), offset=1), {})
    repeat = process_raw(raw_input(SOURCE, sample("firing.json"), offset=2), {})
    resolved = process_raw(raw_input(SOURCE, sample("resolved.json"), offset=3), {})
    late = process_raw(raw_input(SOURCE, sample("resolved.json"), offset=4), {})
    entity = "alertmanager:5f3c6b1a9e2d4c07"
    assert decide_in_order([first, repeat, resolved, late], RECEIVED_AT + 1) == [
        (entity, True, "open"),
        (entity, False, "redelivery"),  # the same body again
        (entity, True, "resolve"),
        (entity, False, "redelivery"),
    ]


def test_each_alert_of_a_group_is_its_own_incident() -> None:
    decided = decide_in_order([process_raw(raw_input(SOURCE, sample("multi.json")), {})], 1)
    assert [(emit, reason) for _, emit, reason in decided] == [
        (True, "open"),
        (True, "open"),
        (True, "unknown_incident"),  # a recovery of an incident we hold no state for
    ]
