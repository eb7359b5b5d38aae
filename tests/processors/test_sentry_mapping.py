"""Sentry's integration platform webhooks (issue alerts, issues, metric alerts), a declarative
source: every sample through parse -> validate -> map -> route, field by field, and an issue
alert then the issue's resolve (and a metric alert's critical then resolved) through stage 2
on one incident each."""

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

SOURCE = "sentry"
ISSUE = "sentry:issue:4521893307"


MAPPED = SourceUnderTest(SOURCE)
alerts_of, sample = MAPPED.alerts_of, MAPPED.sample


def test_every_sample_maps_to_one_valid_alert() -> None:
    samples = load_sources()[SOURCE].samples
    assert {p.name for p in samples} == {
        "event-alert-error.json",
        "issue-created.json",
        "issue-resolved.json",
        "metric-alert-critical.json",
        "metric-alert-resolved.json",
    }
    for path in samples:
        assert len(alerts_of(path.read_bytes())) == 1, path.name


def test_an_issue_alert() -> None:
    [alert] = alerts_of(sample("event-alert-error.json"))
    assert alert["source"] == "sentry"
    assert alert["message_type"] == "CRITICAL"  # level error
    assert alert["entity_id"] == ISSUE  # the event's issue
    assert alert["entity_display_name"] == (
        "OperationalError: could not connect to server: Connection refused"
    )
    assert alert["state_message"] == (
        "OperationalError: could not connect to server: Connection refused\n"
        "billing.tasks.charge_invoice"
    )
    assert alert["monitoring_tool"] == "Sentry"
    assert alert["hostname"] is None
    assert alert["event_time"] == 1_742_240_458_412  # data.event.datetime
    assert alert["annotations"] == [
        {
            "kind": "url",
            "title": "Sentry event",
            "value": "https://acme.sentry.io/issues/4521893307/events/"
            "b7e0c2d94f3a4e61a8d5c0f1e2a3b4c5/",
        }
    ]
    details = alert["details"]
    assert details["action"] == "triggered"
    assert details["triggered_rule"] == "Billing errors page the on-call"
    assert details["event_id"] == "b7e0c2d94f3a4e61a8d5c0f1e2a3b4c5"
    assert details["issue_id"] == "4521893307"
    assert (details["level"], details["environment"]) == ("error", "production")
    assert details["release"] == "billing@2025.3.2"
    assert ["server_name", "billing-worker-3"] in details["tags"]
    assert details["installation"] == "5d1c9a3e-7b42-4f0e-9a61-2c8b0e4f7d19"


def test_the_issue_resolved_is_the_same_incident() -> None:
    [alert] = alerts_of(sample("issue-resolved.json"))
    assert alert["message_type"] == "RECOVERY"
    assert alert["entity_id"] == ISSUE
    assert alert["entity_display_name"] == (
        "OperationalError: could not connect to server: Connection refused"
    )
    assert alert["event_time"] == RECEIVED_AT  # Sentry sends no resolve time
    assert alert["annotations"] == [
        {
            "kind": "url",
            "title": "Sentry issue",
            "value": "https://acme.sentry.io/issues/4521893307/",
        }
    ]
    assert alert["details"]["short_id"] == "BILLING-7Q"
    assert alert["details"]["status_details"] == {"inNextRelease": True}
    assert alert["details"]["actor"]["name"] == "Ana Costa"


def test_a_new_issue_is_info_the_alert_rules_decide_what_pages() -> None:
    [alert] = alerts_of(sample("issue-created.json"))
    assert (alert["message_type"], alert["entity_id"]) == ("INFO", "sentry:issue:4521907741")
    assert alert["event_time"] == 1_742_240_527_120  # firstSeen


def test_metric_alerts() -> None:
    [critical] = alerts_of(sample("metric-alert-critical.json"))
    [resolved] = alerts_of(sample("metric-alert-resolved.json"))
    assert (critical["message_type"], resolved["message_type"]) == ("CRITICAL", "RECOVERY")
    assert critical["entity_id"] == resolved["entity_id"] == "sentry:metric_alert:9025"
    assert critical["entity_display_name"] == "Checkout error rate"
    assert critical["state_message"] == (
        "Critical: Checkout error rate\n"
        "41 events in the last 5 minutes\nFilter: transaction:/checkout level:error"
    )
    assert critical["event_time"] == 1_742_240_340_000  # date_detected
    assert resolved["event_time"] == 1_742_241_060_000  # date_closed
    assert critical["annotations"] == [
        {
            "kind": "url",
            "title": "Sentry metric alert",
            "value": "https://acme.sentry.io/alerts/rules/details/311/?alert=9025",
        }
    ]
    assert critical["details"]["alert_rule"] == "Checkout error rate"
    assert critical["details"]["alert_query"] == "transaction:/checkout level:error"


def with_action(name: str, action: str, level: str | None = None) -> bytes:
    body = json.loads(sample(name))
    body["action"] = action
    if level is not None:
        body["data"]["event"]["level"] = level
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("fatal", "CRITICAL"),
        ("error", "CRITICAL"),
        (" Warning ", "WARNING"),
        ("info", "INFO"),
        ("debug", "INFO"),
        ("", "CRITICAL"),  # no level: the rule chose to alert
        ("weird", "CRITICAL"),
    ],
)
def test_an_issue_alerts_level_sets_its_message_type(level: str, expected: str) -> None:
    body = with_action("event-alert-error.json", "triggered", level)
    assert alerts_of(body)[0]["message_type"] == expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("resolved", "RECOVERY"),
        ("archived", "RECOVERY"),
        ("ignored", "RECOVERY"),
        ("unresolved", "INFO"),
        ("assigned", "INFO"),
        ("created", "INFO"),
    ],
)
def test_issue_actions(action: str, expected: str) -> None:
    [alert] = alerts_of(with_action("issue-resolved.json", action))
    assert (alert["message_type"], alert["entity_id"]) == (expected, ISSUE)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"action": "triggered"}', "$"),
        (b'{"action": "triggered", "data": {"comment": "x"}}', "$.data"),
        (b'{"action": "resolved", "data": {"issue": {"title": "no id"}}}', "$.data.issue"),
        (b'{"action": "", "data": {"issue": {"id": "1"}}}', "$.action"),
    ],
)
def test_bodies_that_are_not_sentry_alerts_are_dead_letters(body: bytes, path: str) -> None:
    result = process_raw(raw_input(SOURCE, body), {})
    assert result.dead_letter is not None
    assert (result.dead_letter.code, result.dead_letter.path) == ("schema", path)


def test_an_issue_alert_then_its_resolve_are_one_incident() -> None:
    fired = process_raw(raw_input(SOURCE, sample("event-alert-error.json"), offset=1), {})
    again = process_raw(raw_input(SOURCE, sample("event-alert-error.json"), offset=2), {})
    resolved = process_raw(raw_input(SOURCE, sample("issue-resolved.json"), offset=3), {})
    assert decide_in_order([fired, again, resolved], RECEIVED_AT + 1) == [
        (ISSUE, True, "open"),
        (ISSUE, False, "redelivery"),  # the same event id
        (ISSUE, True, "resolve"),
    ]


def test_a_metric_alert_opens_and_resolves() -> None:
    critical = process_raw(raw_input(SOURCE, sample("metric-alert-critical.json"), offset=1), {})
    resolved = process_raw(raw_input(SOURCE, sample("metric-alert-resolved.json"), offset=2), {})
    entity = "sentry:metric_alert:9025"
    assert decide_in_order([critical, resolved], RECEIVED_AT + 1) == [
        (entity, True, "open"),
        (entity, True, "resolve"),
    ]
