"""Each failure becomes a dead letter with the right code; the pipeline itself never raises."""

from __future__ import annotations

from typing import Any

import pytest

from processors.deadletter import DeadLetter, dead_letter_headers
from processors.draft import AlertDraft, MapContext
from processors.pipeline import RawInput, process_raw
from processors.validate import SchemaSet
from schemas.normalized import RawRef
from schemas.registry import load_sources
from tests.processors.helpers import raw_input

FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("source", "body", "content_type", "code", "path"),
    [
        ("thousandeyes", b"{not json", "application/json", "invalid_json", ""),
        ("pingometer", b"monitor_id&monitor_status=0", FORM, "invalid_form", ""),
        ("pingometer", b"\xff\xfe", FORM, "invalid_form", ""),
        ("thousandeyes", b'{"eventType":"X"}', "application/json", "schema", "$"),
        (
            "thousandeyes",
            b'{"eventType":"ALERT_NOTIFICATION_TRIGGER","eventId":"1","alert":{"alertId":1.5}}',
            "application/json",
            "schema",
            "$.alert.alertId",
        ),
        ("pingometer", b"monitor_id=1&monitor_status=3", FORM, "schema", "$.monitor_status"),
        ("generic", b'[{"message_type":"INFO"}]', "application/json", "schema", "$"),
        (
            "generic",
            b'{"message_type":"INFO","entity_id":"' + b"e" * 513 + b'"}',
            "application/json",
            "schema",
            "$.entity_id",
        ),
        (
            "thousandeyes",
            b'{"eventType":"ALERT_NOTIFICATION_SNOOZE","eventId":"1"}',
            "application/json",
            "unknown_event_type",
            "",
        ),
        ("nosuchsource", b"{}", "application/json", "unknown_source", ""),
    ],
)
def test_failures_get_their_code(
    source: str, body: bytes, content_type: str, code: str, path: str
) -> None:
    result = process_raw(raw_input(source, body, content_type=content_type), {})
    assert result.alerts == ()
    assert result.dead_letter is not None
    assert (result.dead_letter.code, result.dead_letter.path) == (code, path), result.dead_letter
    assert result.dead_letter.message


def test_a_record_without_ingress_headers_is_an_invalid_envelope() -> None:
    result = process_raw(RawInput(b"{}", [("source", b"generic")], "alerts.raw", 0, 1), {})
    assert result.dead_letter is not None
    assert result.dead_letter.code == "invalid_envelope"
    assert "org" in result.dead_letter.message


def test_a_header_without_a_value_is_an_invalid_envelope() -> None:
    """Kafka allows null header values; one must dead-letter its record, not stop the
    partition by raising out of stage 1."""
    good = raw_input("generic", b'{"message_type":"INFO"}')
    for name in ("org", "received_at"):
        headers: list[tuple[str, Any]] = [(k, None if k == name else v) for k, v in good.headers]
        result = process_raw(RawInput(good.value, headers, "alerts.raw", 0, 1), {})
        assert result.dead_letter is not None
        assert result.dead_letter.code == "invalid_envelope"
        assert f"headers without a value: {name}" in result.dead_letter.message


def test_a_mapping_that_raises_dead_letters_only_that_body() -> None:
    def broken(data: dict[str, Any], ctx: MapContext) -> list[AlertDraft]:
        raise KeyError("surprise")

    compiled = SchemaSet(load_sources())
    compiled.mappings["generic"] = broken
    result = process_raw(raw_input("generic", b'{"message_type":"INFO"}'), {}, compiled)
    assert result.dead_letter == DeadLetter("mapping", "KeyError: 'surprise'")


def test_dead_letter_headers_keep_the_original_and_add_error_and_raw() -> None:
    original = [("source", b"generic"), ("org", b"acme"), ("error.code", b"stale")]
    headers = dead_letter_headers(
        original, DeadLetter("schema", "bad", "$.x"), RawRef("alerts.raw", 3, 42)
    )
    assert headers == [
        ("source", b"generic"),
        ("org", b"acme"),
        ("error.code", b"schema"),
        ("error.message", b"bad"),
        ("error.path", b"$.x"),
        ("raw.topic", b"alerts.raw"),
        ("raw.partition", b"3"),
        ("raw.offset", b"42"),
    ]
