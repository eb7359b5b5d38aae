"""A VictorOps REST body on the Pingometer URL (Pingometer's VictorOps integration may build
it) is mapped as the REST source maps it, as Pingometer's alert; Pingometer's own fields keep
their mapping, and the schema tells the two apart without changing Pingometer's errors."""

from __future__ import annotations

from processors.pipeline import process_raw
from tests.processors.helpers import RECEIVED_AT, assert_valid_alerts, decide_in_order, raw_input


def test_a_rest_body_is_pingometers_alert() -> None:
    body = b'{"message_type":"critical","entity_id":"shop-check","state_message":"shop is down"}'
    result = process_raw(raw_input("pingometer", body), {})
    assert result.dead_letter is None, result.dead_letter
    [alert] = assert_valid_alerts(result)
    assert (alert["source"], alert["message_type"], alert["entity_id"]) == (
        "pingometer",
        "CRITICAL",
        "shop-check",
    )
    assert alert["monitoring_tool"] == "Pingometer"
    assert alert["state_message"] == "shop is down"


def test_a_rest_body_naming_its_tool_keeps_it() -> None:
    body = b'{"message_type":"INFO","entity_id":"e","monitoring_tool":"Pingometer (VictorOps)"}'
    [alert] = assert_valid_alerts(process_raw(raw_input("pingometer", body), {}))
    assert alert["monitoring_tool"] == "Pingometer (VictorOps)"


def test_down_then_up_in_rest_form_is_one_incident() -> None:
    down = b'{"message_type":"CRITICAL","entity_id":"m-7"}'
    up = b'{"message_type":"RECOVERY","entity_id":"m-7"}'
    results = [
        process_raw(raw_input("pingometer", body, offset=n), {})
        for n, body in enumerate([down, up], 1)
    ]
    assert decide_in_order(results, RECEIVED_AT + 1) == [
        ("m-7", True, "open"),
        ("m-7", True, "resolve"),
    ]


def test_the_schema_still_names_pingometers_own_missing_field() -> None:
    result = process_raw(raw_input("pingometer", b'{"monitor_id":"7"}'), {})
    assert result.dead_letter is not None
    assert result.dead_letter.code == "schema"
    assert "monitor_status" in result.dead_letter.message
    rest = process_raw(raw_input("pingometer", b'{"message_type":5}'), {})
    assert rest.dead_letter is not None
    assert (rest.dead_letter.code, rest.dead_letter.path) == ("schema", "$.message_type")
