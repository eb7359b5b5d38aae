"""Every sample body through parse -> validate -> map -> route, field by field."""

from __future__ import annotations

from typing import Any, TypedDict, Unpack

import pytest

from processors.pipeline import process_raw
from processors.routing import config_from_json
from schemas.normalized import RawRef, alert_id_for
from tests.processors.helpers import RECEIVED_AT, assert_valid_alerts, fixture, raw_input

ROUTES = {
    "acme": config_from_json(
        "acme",
        {
            "routes": {"team-a": ["web-oncall"], "dba": ["dba"]},
            "default_teams": ["noc"],
        },
    )
}


class RawOptions(TypedDict, total=False):
    """The keywords of ``raw_input`` that ``one`` passes through (it sets the content type)."""

    org: str
    routing_key: str
    entity_id: str | None
    offset: int
    received_at: int


def one(source: str, name: str, **kwargs: Unpack[RawOptions]) -> dict[str, Any]:
    content_type = (
        "application/x-www-form-urlencoded" if name.endswith(".form") else ("application/json")
    )
    result = process_raw(
        raw_input(source, fixture(source, name), content_type=content_type, **kwargs), ROUTES
    )
    assert result.dead_letter is None, result.dead_letter
    [alert] = assert_valid_alerts(result)
    return alert


def test_thousandeyes_trigger() -> None:
    alert = one("thousandeyes", "trigger.json", routing_key="Team-A")
    assert alert["message_type"] == "CRITICAL"  # severity Major
    assert alert["entity_id"] == "thousandeyes:119245678"
    assert alert["incident_key"] == "acme/thousandeyes:119245678"
    assert alert["entity_display_name"] == (
        "Checkout HTTP 5xx (checkout.example.com - HTTP Server)"
    )
    assert alert["state_message"].splitlines() == [
        "Checkout HTTP 5xx: Response Code is server error (5xx)",
        "Test: checkout.example.com - HTTP Server (HTTP Server)",
        "- New York, NY (Cogent): Response Code: 503",
        "- Dallas, TX (AT&T): Response Code: 502",
    ]
    assert alert["event_time"] == 1_742_240_580_000  # 2025-03-17 19:43:00 UTC
    assert alert["received_at"] == RECEIVED_AT
    assert alert["monitoring_tool"] == "ThousandEyes"
    assert alert["routing_key"] == "team-a"
    assert alert["routing"] == {
        "requested": "Team-A",
        "reason": "matched",
        "teams": ["web-oncall"],
        "rule": None,
    }
    assert alert["annotations"] == [
        {
            "kind": "url",
            "title": "ThousandEyes alert",
            "value": "https://app.thousandeyes.com/alerts/list/?__a=1021286&alertId=119245678",
        }
    ]
    assert alert["details"]["event_id"] == "318004512-119245678"
    assert alert["details"]["alert"]["testLabels"][0]["id"] == 562949953465712
    assert alert["raw"] == {"topic": "alerts.raw", "partition": 2, "offset": 7}
    assert alert["alert_id"] == alert_id_for(RawRef("alerts.raw", 2, 7), 0)
    assert (alert["is_test"], alert["duplicates_suppressed"], alert["schema_version"]) == (
        False,
        0,
        1,
    )


def test_thousandeyes_clear_shares_the_incident_and_uses_date_end() -> None:
    alert = one("thousandeyes", "clear.json")
    assert alert["message_type"] == "RECOVERY"
    assert alert["entity_id"] == "thousandeyes:119245678"
    assert alert["event_time"] == 1_742_241_900_000  # 2025-03-17 20:05:00 UTC
    assert "- New York, NY (Cogent): Response Code: 200" in alert["state_message"]


def test_thousandeyes_test_button_is_a_test_info() -> None:
    alert = one("thousandeyes", "webhook-test.json")
    assert (alert["message_type"], alert["is_test"]) == ("INFO", True)
    assert alert["entity_id"] == "thousandeyes:test:1742240580123"


def test_thousandeyes_legacy_agent_alert() -> None:
    alert = one("thousandeyes", "agent-trigger-legacy.json")
    assert alert["message_type"] == "CRITICAL"
    assert alert["entity_id"] == "thousandeyes:agent-5744505"
    assert alert["hostname"] == "te-agent-01.corp.example.com"
    assert alert["event_time"] == 1_742_240_580_000  # epoch seconds in the legacy form
    assert alert["state_message"] == (
        "Default Agent Clock Offset Notification on DC1 Enterprise Agent: Clock Offset: 95 seconds"
    )


@pytest.mark.parametrize("name", ["down.form", "down.json"])
def test_pingometer_down(name: str) -> None:
    alert = one("pingometer", name)
    assert alert["message_type"] == "CRITICAL"
    assert alert["entity_id"] == "pingometer:48213"
    assert alert["event_time"] == RECEIVED_AT  # Pingometer sends no time
    assert alert["monitoring_tool"] == "Pingometer"


def test_pingometer_json_descriptive_fields() -> None:
    alert = one("pingometer", "down.json")
    assert alert["entity_display_name"] == "Marketing site"
    assert alert["state_message"] == "HTTP 503 Service Unavailable"
    assert alert["hostname"] == "www.example.com"
    assert alert["annotations"] == [
        {"kind": "url", "title": "Monitored URL", "value": "https://www.example.com/"}
    ]


def test_pingometer_up_form() -> None:
    alert = one("pingometer", "up.form")
    assert alert["message_type"] == "RECOVERY"
    assert alert["state_message"] == "Pingometer monitor 48213 is UP"


def test_generic_critical_with_annotations() -> None:
    alert = one("generic", "critical.json", routing_key="")
    assert alert["message_type"] == "CRITICAL"
    assert alert["entity_id"] == "diskspace/db01.example.com"
    assert alert["incident_key"] == "acme/diskspace/db01.example.com"
    assert alert["entity_display_name"] == "Critically low disk space on db01"
    assert alert["hostname"] == "db01.example.com"
    assert alert["monitoring_tool"] == "nagios"
    assert alert["event_time"] == 1_742_240_590_000  # timestamp, epoch seconds
    assert alert["annotations"] == [
        {
            "kind": "url",
            "title": "Runbook",
            "value": "https://wiki.example.com/runbooks/disk-space",
        },
        {
            "kind": "note",
            "title": "Note",
            "value": "Check for runaway WAL files before extending the volume.",
        },
        {
            "kind": "image",
            "title": "Graph",
            "value": "https://grafana.example.com/render/d-solo/disk?panelId=2&width=600&height=300",
        },
    ]
    assert alert["routing"] == {
        "requested": "",
        "reason": "missing",
        "teams": ["noc"],
        "rule": None,
    }
    assert alert["routing_key"] is None
    assert alert["details"] == {}


def test_generic_recovery() -> None:
    alert = one("generic", "recovery.json", routing_key="$routing_key")
    assert alert["message_type"] == "RECOVERY"
    assert alert["routing"]["reason"] == "placeholder"
