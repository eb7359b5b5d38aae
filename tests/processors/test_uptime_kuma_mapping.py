"""Uptime Kuma's Webhook notification (application/json preset), a declarative source: every
sample through parse -> validate -> map -> route, field by field, and a monitor's down and up
notifications through stage 2 on one incident."""

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

SOURCE = "uptime_kuma"


MAPPED = SourceUnderTest(SOURCE)
alerts_of, sample = MAPPED.alerts_of, MAPPED.sample


def test_every_sample_maps_to_one_valid_alert() -> None:
    samples = load_sources()[SOURCE].samples
    assert {p.name for p in samples} == {
        "http-down.json",
        "http-up.json",
        "ping-down.json",
        "test-notification.json",
    }
    for path in samples:
        assert len(alerts_of(path.read_bytes())) == 1, path.name


def test_a_monitor_going_down() -> None:
    [alert] = alerts_of(sample("http-down.json"))
    assert alert["source"] == "uptime_kuma"
    assert alert["message_type"] == "CRITICAL"  # heartbeat.status 0
    assert alert["entity_id"] == "uptime_kuma:14"  # the monitor's id
    assert alert["incident_key"] == "acme/uptime_kuma:14"
    assert alert["entity_display_name"] == "Shop / Checkout API"  # pathName: group / name
    assert alert["state_message"] == "[Checkout API] [🔴 Down] timeout of 48000ms exceeded"
    assert alert["monitoring_tool"] == "Uptime Kuma"
    assert alert["hostname"] is None  # an http monitor has no hostname
    assert alert["event_time"] == 1_742_240_465_218  # heartbeat.time, UTC
    assert alert["is_test"] is False
    assert alert["annotations"] == [
        {"kind": "url", "title": "Monitored URL", "value": "https://shop.example.com/api/health"}
    ]
    details = alert["details"]
    assert details["status"] == 0
    assert details["heartbeat_msg"] == "timeout of 48000ms exceeded"
    assert details["localDateTime"] == "2025-03-17 20:41:05"
    assert details["timezone"] == "Europe/Berlin"
    assert details["retries"] == 2
    assert details["monitor_type"] == "http"
    assert details["monitor_url"] == "https://shop.example.com/api/health"
    assert details["tags"][0]["name"] == "env"
    assert "ping" not in details  # null: left out
    assert "monitor_hostname" not in details


def test_the_same_monitor_coming_back_up_is_its_recovery() -> None:
    [alert] = alerts_of(sample("http-up.json"))
    assert alert["message_type"] == "RECOVERY"
    assert alert["entity_id"] == "uptime_kuma:14"
    assert alert["event_time"] == 1_742_240_885_902
    assert alert["details"]["ping"] == 182
    assert alert["details"]["lastDownTime"] == "2025-03-17 19:41:05.218"


def test_a_ping_monitor_has_a_hostname_and_no_url_link() -> None:
    [alert] = alerts_of(sample("ping-down.json"))
    assert (alert["message_type"], alert["entity_id"]) == ("CRITICAL", "uptime_kuma:7")
    assert alert["hostname"] == "10.20.0.2"
    assert alert["annotations"] == []  # url "https://" is Uptime Kuma's default, not a link
    assert alert["details"]["monitor_url"] == "https://"


def test_a_notice_without_monitor_is_info_and_never_an_incident() -> None:
    [alert] = alerts_of(sample("test-notification.json"))
    assert alert["message_type"] == "INFO"
    assert alert["entity_id"].startswith("uptime_kuma:notice:")
    assert alert["state_message"] == "alertpipe ops Testing"
    assert alert["event_time"] == RECEIVED_AT  # no heartbeat time: when it was received
    assert alert["details"] == {}
    decided = decide_in_order(
        [process_raw(raw_input(SOURCE, sample("test-notification.json")), {})], 1
    )
    assert [reason for _, _, reason in decided] == ["info"]


def body_with(status: int) -> bytes:
    body = json.loads(sample("http-down.json"))
    body["heartbeat"]["status"] = status
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("status", "expected"), [(0, "CRITICAL"), (1, "RECOVERY"), (2, "WARNING"), (3, "INFO")]
)
def test_the_heartbeat_status_sets_the_message_type(status: int, expected: str) -> None:
    assert alerts_of(body_with(status))[0]["message_type"] == expected


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"heartbeat": null, "monitor": null}', "$"),
        (b'{"msg": "x", "heartbeat": {"status": 5}}', "$.heartbeat"),
        (b'{"msg": "x", "monitor": {"id": "14", "name": "a"}}', "$.monitor"),
        (b'{"msg": 3}', "$.msg"),
    ],
)
def test_bodies_that_are_not_uptime_kuma_notifications_are_dead_letters(
    body: bytes, path: str
) -> None:
    result = process_raw(raw_input(SOURCE, body), {})
    assert result.dead_letter is not None
    assert (result.dead_letter.code, result.dead_letter.path) == ("schema", path)


def test_down_repeat_and_up_are_one_incident() -> None:
    down = process_raw(raw_input(SOURCE, sample("http-down.json"), offset=1), {})
    repeat = process_raw(raw_input(SOURCE, sample("http-down.json"), offset=2), {})
    up = process_raw(raw_input(SOURCE, sample("http-up.json"), offset=3), {})
    entity = "uptime_kuma:14"
    assert decide_in_order([down, repeat, up], RECEIVED_AT + 1) == [
        (entity, True, "open"),
        (entity, False, "redelivery"),
        (entity, True, "resolve"),
    ]
