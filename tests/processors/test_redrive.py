"""Redrive: a dead letter through stage 1 again; what passes is decided by stage 2 as new."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from processors.deadletter import dead_letter_headers
from processors.incidents import IncidentPolicy
from processors.pipeline import process_raw
from processors.redrive import REDRIVE_HEADER, redrive
from processors.replay import Replayer
from processors.stage_two import FINGERPRINT_HEADER, REDRIVEN_HEADER, decide_alert
from processors.validate import schema_set
from schemas.normalized import alert_id_for
from tests.processors.helpers import NULLS_BODY, RECEIVED_AT, raw_input, write_nulls_fix

ORIGIN = "alerts.dead-letter:4:2"


def dead_letter() -> tuple[list[tuple[str, bytes]], bytes]:
    """NULLS_BODY as the worker dead-lettered it (headers as on the dead-letter topic)."""
    raw = raw_input("generic", NULLS_BODY, offset=40)
    letter = process_raw(raw, {}).dead_letter
    assert letter is not None
    return dead_letter_headers(raw.headers, letter, raw.ref), raw.value


def test_without_a_fix_it_fails_again_and_says_where_it_came_from() -> None:
    headers, body = dead_letter()
    done = redrive(b"key", body, headers, ORIGIN, {})
    assert not done.passes
    assert done.to_stage_one == ()
    assert done.to_dead_letter is not None
    key, value, again = done.to_dead_letter
    assert (key, value) == (b"key", body)
    found = dict(again)
    assert found["error.path"] == b"$.timestamp"
    assert (found["raw.topic"], found["raw.offset"]) == (b"alerts.raw", b"40")
    assert found["request_id"] == b"req-1"  # the ingress's headers, unchanged
    assert found["received_at"] == str(RECEIVED_AT).encode()
    assert found[REDRIVE_HEADER] == ORIGIN.encode()
    assert [k for k, _ in again].count("error.code") == 1


def test_a_dead_letter_of_a_redrive_is_redriven_cleanly() -> None:
    headers, body = dead_letter()
    first = redrive(None, body, headers, ORIGIN, {}).to_dead_letter
    assert first is not None
    second = redrive(None, body, first[2], "alerts.dead-letter:0:9", {}).to_dead_letter
    assert second is not None
    assert [v for k, v in second[2] if k == REDRIVE_HEADER] == [b"alerts.dead-letter:0:9"]


def test_after_a_fix_it_passes_with_the_alert_id_of_its_raw_record(tmp_path: Path) -> None:
    headers, body = dead_letter()
    fixed = schema_set(write_nulls_fix(tmp_path).parent)
    done = redrive(b"key", body, headers, ORIGIN, {}, fixed)
    assert done.passes
    [(key, value, stage_one)] = done.to_stage_one
    alert = json.loads(value)
    assert key == alert["incident_key"].encode() == b"acme/disk/db1"
    assert alert["alert_id"] == alert_id_for(done.raw, 0)
    assert alert["received_at"] == RECEIVED_AT
    assert [k for k, _ in stage_one] == [FINGERPRINT_HEADER, REDRIVEN_HEADER]


def test_stage_two_decides_a_redriven_alert_even_after_later_records(tmp_path: Path) -> None:
    """The incident has seen later records of the same raw partition; the redriven alert is
    still decided (as late, if older than the incident's last change: not here)."""
    fixed = schema_set(write_nulls_fix(tmp_path).parent)
    replayer = Replayer({}, IncidentPolicy(), fixed)
    later = b'{"message_type":"RECOVERY","entity_id":"disk/db1","timestamp":1}'
    replayer.feed(raw_input("generic", later, offset=90), RECEIVED_AT)
    state = replayer.states["acme/disk/db1"]

    headers, body = dead_letter()
    [(_, value, stage_one)] = redrive(None, body, headers, ORIGIN, {}, fixed).to_stage_one
    now = RECEIVED_AT
    assert decide_alert(state, value, stage_one, now, IncidentPolicy()).decision.emit


def test_a_record_that_is_not_a_dead_letter_is_refused() -> None:
    raw = raw_input("generic", NULLS_BODY)
    with pytest.raises(ValueError, match=r"raw\.topic"):
        redrive(None, raw.value, raw.headers, ORIGIN, {})
