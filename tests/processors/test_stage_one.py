"""Stage 1 of one raw record: the records ``process_raw`` implies, in order."""

from __future__ import annotations

from dataclasses import dataclass

from processors.deadletter import dead_letter_headers
from processors.pipeline import RawInput, process_raw
from processors.stage_one import stage_one
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
    for m in batch_of_records():
        headers = list(m.headers or ())
        raw = RawInput(m.value or b"", headers, m.topic, m.partition, m.offset)
        result = process_raw(raw, {})
        if result.dead_letter is not None:
            letter_headers = dead_letter_headers(headers, result.dead_letter, raw.ref)
            expected = [(True, m.key, m.value or b"", letter_headers)]
        else:
            expected = [
                (False, alert.incident_key.encode(), encoded, stage_one_headers(print_))
                for alert, encoded, print_ in zip(
                    result.alerts, result.encoded, result.fingerprints, strict=True
                )
            ]

        got_result, outputs = stage_one(raw, m.key, {}, None)

        assert got_result == result
        assert [(o.dead_letter, o.key, o.value, o.headers) for o in outputs] == expected


def test_a_dead_letter_keeps_the_raw_key_body_and_headers() -> None:
    letters = [
        out
        for m in batch_of_records()
        for out in stage_one(
            RawInput(m.value or b"", list(m.headers or ()), m.topic, m.partition, m.offset),
            m.key,
            {},
            None,
        )[1]
        if out.dead_letter
    ]
    assert len(letters) == 3
    assert all(out.headers[-1][0] == "raw.offset" for out in letters)
