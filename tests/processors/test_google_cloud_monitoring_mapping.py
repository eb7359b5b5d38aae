"""Google Cloud Monitoring's webhook notification channel (schema version 1.2), a declarative
source: every sample through parse -> validate -> map -> route, field by field, the severity
map, and an incident's open then closed through stage 2 on one incident."""

from __future__ import annotations

import json
from typing import Any

import pytest

from processors.pipeline import process_raw
from schemas.registry import load_sources
from tests.processors.helpers import (
    RECEIVED_AT,
    SourceUnderTest,
    decide_in_order,
    raw_input,
)

SOURCE = "google_cloud_monitoring"
INCIDENT = "google_cloud_monitoring:0.nkq5p2x7wz1a"


MAPPED = SourceUnderTest(SOURCE)
alerts_of, sample = MAPPED.alerts_of, MAPPED.sample


def test_every_sample_maps_to_one_valid_alert() -> None:
    samples = load_sources()[SOURCE].samples
    assert {p.name for p in samples} == {"open.json", "closed.json", "uptime-check-warning.json"}
    for path in samples:
        assert len(alerts_of(path.read_bytes())) == 1, path.name


def test_an_open_incident() -> None:
    [alert] = alerts_of(sample("open.json"))
    assert alert["source"] == "google_cloud_monitoring"
    assert alert["message_type"] == "CRITICAL"  # severity Critical
    assert alert["entity_id"] == INCIDENT  # incident.incident_id
    assert alert["entity_display_name"] == "Web tier CPU high on shop-web-3"
    assert alert["state_message"] == (
        "CPU utilization for shop-web-3 is above the threshold of 0.900 with a value of 0.973."
    )
    assert alert["monitoring_tool"] == "Google Cloud Monitoring"
    assert alert["hostname"] == "shop-web-3"
    assert alert["event_time"] == 1_742_240_388_000  # started_at, epoch seconds
    assert alert["annotations"] == [
        {
            "kind": "url",
            "title": "Incident",
            "value": "https://console.cloud.google.com/monitoring/alerting/incidents/"
            "0.nkq5p2x7wz1a?project=acme-shop-prod",
        },
        {"kind": "url", "title": "Runbook", "value": "https://runbooks.example.com/web-cpu"},
        {
            "kind": "url",
            "title": "Dashboard",
            "value": "https://console.cloud.google.com/monitoring/dashboards/custom/web"
            "?project=acme-shop-prod",
        },
    ]
    details = alert["details"]
    assert (details["state"], details["severity"]) == ("open", "Critical")
    assert details["policy_name"] == "Web tier CPU high"
    assert details["resource"]["type"] == "gce_instance"
    assert details["metric"]["type"] == "compute.googleapis.com/instance/cpu/utilization"
    assert (details["threshold_value"], details["observed_value"]) == ("0.9", "0.973")
    assert details["policy_user_labels"] == {"team": "shop"}
    assert details["documentation"]["mime_type"] == "text/markdown"
    assert details["version"] == "1.2"
    assert "ended_at" not in details  # null: left out


def test_its_close_is_the_same_incident_at_its_end_time() -> None:
    [alert] = alerts_of(sample("closed.json"))
    assert (alert["message_type"], alert["entity_id"]) == ("RECOVERY", INCIDENT)
    assert alert["event_time"] == 1_742_241_288_000  # ended_at
    assert alert["state_message"] == (
        "CPU utilization for shop-web-3 returned to normal with a value of 0.412."
    )


def test_an_uptime_check_incident() -> None:
    [alert] = alerts_of(sample("uptime-check-warning.json"))
    assert alert["message_type"] == "WARNING"  # severity Warning; state OPEN in capitals
    assert alert["hostname"] == "shop.example.com"  # the uptime check's host label
    assert alert["entity_display_name"] == "Storefront uptime on storefront-https"
    assert [a["title"] for a in alert["annotations"]] == ["Incident"]


def with_incident(**changes: Any) -> bytes:
    body = json.loads(sample("open.json"))
    body["incident"].update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("Critical", "CRITICAL"),
        ("Error", "CRITICAL"),
        ("Warning", "WARNING"),
        ("No severity", "CRITICAL"),  # a policy without severity still pages
        ("", "CRITICAL"),
        ("Something else", "CRITICAL"),
    ],
)
def test_the_policy_severity_of_an_open_incident(severity: str, expected: str) -> None:
    assert alerts_of(with_incident(severity=severity))[0]["message_type"] == expected
    closed = with_incident(severity=severity, state="closed", ended_at=1_742_241_288)
    assert alerts_of(closed)[0]["message_type"] == "RECOVERY"


def test_without_a_severity_key_an_open_incident_pages() -> None:
    body = json.loads(sample("open.json"))
    del body["incident"]["severity"]  # before Cloud Monitoring sent policy severities
    assert alerts_of(json.dumps(body).encode())[0]["message_type"] == "CRITICAL"


def test_a_close_without_end_time_takes_the_start() -> None:
    [alert] = alerts_of(with_incident(state="closed"))
    assert alert["event_time"] == 1_742_240_388_000


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"incident": {"incident_id": "1", "state": "open"}}', "$"),
        (b'{"version": "1.2", "incident": {"state": "open"}}', "$.incident"),
        (with_incident(state="acknowledged"), "$.incident.state"),
        (with_incident(started_at="1742240388"), "$.incident.started_at"),
        (with_incident(incident_id=""), "$.incident.incident_id"),
    ],
)
def test_bodies_not_from_cloud_monitoring_are_dead_letters(body: bytes, path: str) -> None:
    result = process_raw(raw_input(SOURCE, body), {})
    assert result.dead_letter is not None
    assert (result.dead_letter.code, result.dead_letter.path) == ("schema", path)


def test_open_again_then_closed_are_one_incident() -> None:
    opened = process_raw(raw_input(SOURCE, sample("open.json"), offset=1), {})
    again = process_raw(raw_input(SOURCE, sample("open.json"), offset=2), {})
    closed = process_raw(raw_input(SOURCE, sample("closed.json"), offset=3), {})
    assert decide_in_order([opened, again, closed], RECEIVED_AT + 1) == [
        (INCIDENT, True, "open"),
        (INCIDENT, False, "redelivery"),
        (INCIDENT, True, "resolve"),
    ]
