"""A stage-1 batch: the same records, in the same order, as ``process_raw`` per record."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from processors.deadletter import dead_letter_headers
from processors.pipeline import RawInput, process_raw
from processors.stage_one import plan_stage_one
from processors.stage_two import stage_one_headers
from tests.processors.helpers import fixture, raw_input


@dataclass(frozen=True)
class Message:
    """The attributes of a consumed record that stage 1 reads."""

    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] | None
    topic: str
    partition: int
    offset: int


def message(raw: RawInput, key: bytes = b"acme/team-a") -> Message:
    return Message(key, raw.value, raw.headers, raw.topic, raw.partition, raw.offset)


def batch_of_records() -> list[Message]:
    return [
        message(raw_input("thousandeyes", fixture("thousandeyes", "trigger.json"), offset=10)),
        message(raw_input("thousandeyes", b'{"eventType": "ALERT_NOTIF', offset=11)),
        message(raw_input("generic", fixture("generic", "critical.json"), offset=12)),
        message(raw_input("nosuchsource", b"{}", offset=13)),
        message(
            raw_input(
                "pingometer",
                fixture("pingometer", "down.form"),
                content_type="application/x-www-form-urlencoded",
                offset=14,
            )
        ),
        Message(None, None, None, "alerts.raw", 2, 15),  # no headers at all
    ]


def test_outputs_are_process_raw_per_record_in_order() -> None:
    messages = batch_of_records()
    expected = []
    for m in messages:
        headers = list(m.headers or ())
        raw = RawInput(m.value or b"", headers, m.topic, m.partition, m.offset)
        result = process_raw(raw, {})
        if result.dead_letter is not None:
            letter_headers = dead_letter_headers(headers, result.dead_letter, raw.ref)
            expected.append((True, m.key, m.value or b"", letter_headers))
            continue
        for i, (alert, encoded, print_) in enumerate(
            zip(result.alerts, result.encoded, result.fingerprints, strict=True)
        ):
            headers_out = stage_one_headers(alert.raw, i, print_)
            expected.append((False, alert.incident_key.encode(), encoded, headers_out))

    batch = plan_stage_one(messages, {}, None)

    got = [(o.dead_letter, o.key, o.value, o.headers) for o in batch.outputs]
    assert got == expected
    assert sum(1 for o in batch.outputs if o.dead_letter) == 3


def test_counts_cover_every_record_once() -> None:
    messages = batch_of_records()

    batch = plan_stage_one(messages, {}, None)

    assert sum(batch.events_in.values()) == len(messages)
    assert batch.events_in == Counter(
        {"thousandeyes": 2, "generic": 1, "nosuchsource": 1, "pingometer": 1, "unknown": 1}
    )
    assert sum(batch.alerts_out.values()) == sum(1 for o in batch.outputs if not o.dead_letter)
    assert sum(batch.dead_letters.values()) == 3
    assert batch.oldest_received_at is not None


def test_an_empty_batch_has_no_outputs() -> None:
    batch = plan_stage_one([], {}, None)

    assert batch.outputs == []
    assert batch.oldest_received_at is None
