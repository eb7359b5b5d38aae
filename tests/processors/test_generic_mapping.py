from __future__ import annotations

import json
from typing import Any

import pytest

from processors.pipeline import process_raw
from tests.processors.helpers import assert_valid_alerts, raw_input


def alert_for(body: dict[str, object], entity_header: str | None = "hdr-1") -> dict[str, Any]:
    result = process_raw(
        raw_input("generic", json.dumps(body).encode(), entity_id=entity_header), {}
    )
    assert result.dead_letter is None, result.dead_letter
    [alert] = assert_valid_alerts(result)
    return alert


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("critical", "CRITICAL"),
        ("Warning", "WARNING"),
        ("ACKNOWLEDGEMENT", "ACKNOWLEDGEMENT"),
        ("info", "INFO"),
        ("recovery", "RECOVERY"),
        ("OK", "RECOVERY"),
        ("ok", "RECOVERY"),
        ("PANIC", "INFO"),
        (" critical ", "CRITICAL"),
    ],
)
def test_message_types_case_insensitive_ok_is_recovery_unknown_is_info(
    given: str, expected: str
) -> None:
    alert = alert_for({"message_type": given, "entity_id": "e"})
    assert alert["message_type"] == expected
    if given == "PANIC":
        assert alert["details"] == {"original_message_type": "PANIC"}


def test_entity_id_comes_from_the_ingress_when_the_body_has_none() -> None:
    alert = alert_for({"message_type": "CRITICAL"}, entity_header="4f0c1d")
    assert alert["entity_id"] == "4f0c1d"
    assert alert["entity_display_name"] == "4f0c1d"


def test_free_form_fields_are_kept_and_limits_truncate_with_a_note() -> None:
    alert = alert_for(
        {
            "message_type": "WARNING",
            "entity_id": "e",
            "custom": {"a": [1, 2]},
            "ack_author": "bob",
            "host_name": "h1",
            "state_message": "s" * 30_000,
            "state_start_time": 1742240000,
        }
    )
    assert alert["details"]["custom"] == {"a": [1, 2]}
    assert alert["details"]["ack_author"] == "bob"
    assert alert["details"]["truncated_fields"] == ["state_message"]
    assert len(alert["state_message"]) == 20_480
    assert alert["hostname"] == "h1"
    assert alert["event_time"] == 1_742_240_000_000


def test_big_integers_survive_into_details() -> None:
    body = b'{"message_type":"INFO","entity_id":"e","counter":123456789012345678901234567890}'
    result = process_raw(raw_input("generic", body), {})
    assert result.dead_letter is None
    [alert] = assert_valid_alerts(result)
    assert alert["details"]["counter"] == 123456789012345678901234567890
