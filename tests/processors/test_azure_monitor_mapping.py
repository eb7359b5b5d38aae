"""Azure Monitor's common alert schema (an action group's webhook), a declarative source: every
sample through parse -> validate -> map -> route, field by field, the severity map, and an
alert's Fired then Resolved through stage 2 on one incident."""

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

SOURCE = "azure_monitor"
SUBSCRIPTION = "/subscriptions/8f3b2c1d-4e5a-4b6c-9d7e-0a1b2c3d4e5f"
CPU_ALERT = (
    f"azure_monitor:{SUBSCRIPTION}/providers/Microsoft.AlertsManagement/alerts/"
    "3c9e41f2-7a05-4d1b-b6e8-52f0a9d4c713"
)


MAPPED = SourceUnderTest(SOURCE)
alerts_of, sample = MAPPED.alerts_of, MAPPED.sample


def test_every_sample_maps_to_one_valid_alert() -> None:
    samples = load_sources()[SOURCE].samples
    assert {p.name for p in samples} == {
        "metric-fired.json",
        "metric-resolved.json",
        "log-search-fired.json",
    }
    for path in samples:
        assert len(alerts_of(path.read_bytes())) == 1, path.name


def test_a_fired_metric_alert() -> None:
    [alert] = alerts_of(sample("metric-fired.json"))
    assert alert["source"] == "azure_monitor"
    assert alert["message_type"] == "CRITICAL"  # Sev1
    assert alert["entity_id"] == CPU_ALERT  # essentials.alertId
    assert alert["entity_display_name"] == "orders-db-cpu-high on orders-db-1"
    assert alert["state_message"] == "CPU of the orders database above 90% for 5 minutes"
    assert alert["monitoring_tool"] == "Azure Monitor (Platform)"
    assert alert["hostname"] == "orders-db-1"  # configurationItems[0]
    assert alert["event_time"] == 1_742_240_431_092  # firedDateTime, 7 digits cut to ms
    [link] = alert["annotations"]
    assert (link["kind"], link["title"]) == ("url", "Investigate in Azure")
    assert link["value"].startswith("https://portal.azure.com/#view/Microsoft_Azure_Monitoring")
    details = alert["details"]
    assert (details["severity"], details["monitorCondition"]) == ("Sev1", "Fired")
    assert (details["signalType"], details["monitoringService"]) == ("Metric", "Platform")
    assert details["alertTargetIDs"] == [
        f"{SUBSCRIPTION}/resourcegroups/orders-prod/providers/microsoft.dbforpostgresql/"
        "flexibleservers/orders-db-1"
    ]
    assert details["alertContext"]["condition"]["allOf"][0]["metricValue"] == 96.4
    assert details["customProperties"] == {"team": "orders"}
    assert "resolvedDateTime" not in details


def test_its_resolve_is_the_same_incident_at_the_resolve_time() -> None:
    [alert] = alerts_of(sample("metric-resolved.json"))
    assert (alert["message_type"], alert["entity_id"]) == ("RECOVERY", CPU_ALERT)
    assert alert["event_time"] == 1_742_241_302_441  # resolvedDateTime
    assert alert["details"]["resolvedDateTime"] == "2025-03-17T19:55:02.4417303Z"


def test_a_log_search_alert_links_its_results() -> None:
    [alert] = alerts_of(sample("log-search-fired.json"))
    assert alert["message_type"] == "WARNING"  # Sev2
    assert alert["state_message"] == "payments-5xx-burst Fired (Sev2, Log)"  # no description
    assert alert["monitoring_tool"] == "Azure Monitor (Log Alerts V2)"
    assert alert["annotations"] == [
        {
            "kind": "url",
            "title": "Search results",
            "value": "https://portal.azure.com#@contoso.onmicrosoft.com/blade/"
            "Microsoft_Azure_Monitoring_Logs/LogsBlade/source/Alerts.EmailLinks/scope/"
            "payments-logs/q/H4sIAAAAAAAAA3f",
        }
    ]
    assert "customProperties" not in alert["details"]  # null: left out


def with_essentials(**changes: Any) -> bytes:
    body = json.loads(sample("metric-fired.json"))
    body["data"]["essentials"].update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("Sev0", "CRITICAL"),
        ("Sev1", "CRITICAL"),
        ("Sev2", "WARNING"),
        ("Sev3", "INFO"),
        ("Sev4", "INFO"),
    ],
)
def test_the_severity_of_a_fired_alert(severity: str, expected: str) -> None:
    assert alerts_of(with_essentials(severity=severity))[0]["message_type"] == expected
    resolved = with_essentials(severity=severity, monitorCondition="Resolved")
    assert alerts_of(resolved)[0]["message_type"] == "RECOVERY"


def test_a_resolve_without_its_time_takes_the_fired_time() -> None:
    [alert] = alerts_of(with_essentials(monitorCondition="Resolved"))
    assert alert["event_time"] == 1_742_240_431_092


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"schemaId": "Microsoft.Insights/activityLogs", "data": {}}', "$.schemaId"),
        (b'{"schemaId": "azureMonitorCommonAlertSchema", "data": {}}', "$.data"),
        (with_essentials(severity="Sev5"), "$.data.essentials.severity"),
        (with_essentials(monitorCondition="Active"), "$.data.essentials.monitorCondition"),
        (with_essentials(alertId=""), "$.data.essentials.alertId"),
    ],
)
def test_bodies_not_in_the_common_schema_are_dead_letters(body: bytes, path: str) -> None:
    result = process_raw(raw_input(SOURCE, body), {})
    assert result.dead_letter is not None
    assert (result.dead_letter.code, result.dead_letter.path) == ("schema", path)


def test_fired_again_then_resolved_are_one_incident() -> None:
    fired = process_raw(raw_input(SOURCE, sample("metric-fired.json"), offset=1), {})
    again = process_raw(raw_input(SOURCE, sample("metric-fired.json"), offset=2), {})
    resolved = process_raw(raw_input(SOURCE, sample("metric-resolved.json"), offset=3), {})
    assert decide_in_order([fired, again, resolved], RECEIVED_AT + 1) == [
        (CPU_ALERT, True, "open"),
        (CPU_ALERT, False, "redelivery"),
        (CPU_ALERT, True, "resolve"),
    ]
