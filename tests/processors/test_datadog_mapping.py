"""Datadog's Webhooks integration with the payload template docs/sources/datadog.md documents,
a declarative source: every sample through parse -> validate -> map -> route, field by field,
the transitions, and a monitor group's Triggered, Renotify and Recovered through stage 2 on
one incident."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from processors.pipeline import process_raw
from schemas.registry import load_sources
from tests.processors.helpers import (
    RECEIVED_AT,
    SourceUnderTest,
    decide_in_order,
    raw_input,
)

SOURCE = "datadog"
DOC = Path(__file__).parents[2] / "docs" / "sources" / "datadog.md"
GROUP = "datadog:8812406:host:web-07"


MAPPED = SourceUnderTest(SOURCE)
alerts_of, sample = MAPPED.alerts_of, MAPPED.sample


def documented_template() -> str:
    [template] = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)
    return str(template)


def test_the_documented_template_is_json_whose_keys_the_samples_use() -> None:
    template = json.loads(documented_template())
    assert template["alert_id"] == "$ALERT_ID"
    assert template["transition"] == "$ALERT_TRANSITION"
    full = json.loads(sample("triggered.json"))
    assert set(full) == set(template)
    assert set(full["org"]) == set(template["org"])
    # every value is a variable inside a string: what Datadog sends is all text
    values = [v for v in template.values() if isinstance(v, str)] + list(template["org"].values())
    assert all(re.fullmatch(r"\$[A-Z_]+", v) for v in values), values


def test_every_sample_maps_to_one_valid_alert() -> None:
    samples = load_sources()[SOURCE].samples
    assert {p.name for p in samples} == {
        "triggered.json",
        "recovered.json",
        "renotify.json",
        "warn-simple-monitor.json",
    }
    for path in samples:
        assert len(alerts_of(path.read_bytes())) == 1, path.name


def test_a_triggered_multi_alert_group() -> None:
    [alert] = alerts_of(sample("triggered.json"))
    assert alert["source"] == "datadog"
    assert alert["message_type"] == "CRITICAL"
    assert alert["entity_id"] == GROUP  # monitor 8812406, group host:web-07
    assert alert["entity_display_name"] == "[Triggered on {host:web-07}] Disk almost full on web-07"
    assert alert["state_message"] == (
        "Disk /var on web-07 is 96% full.\nRunbook: https://runbooks.example.com/disk-full"
    )
    assert alert["monitoring_tool"] == "Datadog"
    assert alert["hostname"] == "web-07"
    assert alert["event_time"] == 1_742_240_412_000  # $DATE, epoch milliseconds
    assert alert["annotations"] == [
        {
            "kind": "url",
            "title": "Datadog",
            "value": "https://app.datadoghq.com/event/event?id=7310948236051442883",
        },
        {
            "kind": "image",
            "title": "Snapshot",
            "value": "https://p.datadoghq.com/snapshot/view/dd-snapshots-prod/org_12345/"
            "2025-03-17/1a2b3c4d.png",
        },
    ]
    details = alert["details"]
    assert (details["transition"], details["alert_type"], details["priority"]) == (
        "Triggered",
        "error",
        "P1",
    )
    assert details["scope"] == "host:web-07"
    assert details["query"] == "avg(last_5m):avg:system.disk.in_use{role:web} by {host} > 0.95"
    assert details["alert_cycle_key"] == "7310948236051442883"
    assert details["tags"] == "env:prod,host:web-07,monitor,role:web"
    assert details["org"] == {"id": "12345", "name": "Acme"}


def test_its_recovery_is_the_same_incident() -> None:
    [alert] = alerts_of(sample("recovered.json"))
    assert (alert["message_type"], alert["entity_id"]) == ("RECOVERY", GROUP)
    assert alert["event_time"] == 1_742_241_012_000
    assert [a["kind"] for a in alert["annotations"]] == ["url"]  # no snapshot


def test_a_simple_monitor_has_no_scope_and_no_host() -> None:
    [alert] = alerts_of(sample("warn-simple-monitor.json"))
    assert (alert["message_type"], alert["entity_id"]) == ("WARNING", "datadog:8812519")
    assert alert["hostname"] is None


def with_transition(transition: str, alert_type: str = "error") -> bytes:
    body = json.loads(sample("triggered.json"))
    body["transition"], body["alert_type"] = transition, alert_type
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("transition", "alert_type", "expected"),
    [
        ("Triggered", "error", "CRITICAL"),
        ("Re-Triggered", "error", "CRITICAL"),
        ("Warn", "warning", "WARNING"),
        ("Re-Warn", "warning", "WARNING"),
        ("No Data", "error", "WARNING"),
        ("Re-No Data", "error", "WARNING"),
        ("Recovered", "success", "RECOVERY"),
        (" recovered ", "success", "RECOVERY"),
        ("Renotify", "error", "CRITICAL"),  # by the alert type
        ("Renotify", "warning", "WARNING"),
        ("Null", "success", "RECOVERY"),
        ("Null", "info", "INFO"),
        ("Something new", "", "CRITICAL"),  # unknown: it pages
    ],
)
def test_the_transition_then_the_alert_type_set_the_message_type(
    transition: str, alert_type: str, expected: str
) -> None:
    assert alerts_of(with_transition(transition, alert_type))[0]["message_type"] == expected


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"transition": "Triggered"}', "$"),
        (b'{"alert_id": 8812406, "transition": "Triggered"}', "$.alert_id"),
        (b'{"alert_id": "1", "transition": ""}', "$.transition"),
        (b'{"alert_id": "1", "transition": "Triggered", "org": "Acme"}', "$.org"),
    ],
)
def test_bodies_not_from_the_template_are_dead_letters(body: bytes, path: str) -> None:
    result = process_raw(raw_input(SOURCE, body), {})
    assert result.dead_letter is not None
    assert (result.dead_letter.code, result.dead_letter.path) == ("schema", path)


def test_triggered_renotify_and_recovered_are_one_incident() -> None:
    triggered = process_raw(raw_input(SOURCE, sample("triggered.json"), offset=1), {})
    again = process_raw(raw_input(SOURCE, sample("triggered.json"), offset=2), {})
    renotify = process_raw(raw_input(SOURCE, sample("renotify.json"), offset=3), {})
    recovered = process_raw(raw_input(SOURCE, sample("recovered.json"), offset=4), {})
    assert decide_in_order([triggered, again, renotify, recovered], RECEIVED_AT + 1) == [
        (GROUP, True, "open"),
        (GROUP, False, "redelivery"),  # the same $ID
        (GROUP, False, "duplicate"),  # still CRITICAL
        (GROUP, True, "resolve"),
    ]
