"""The pure steps of `alertpipe explain`."""

from __future__ import annotations

import json

from processors.explain import (
    Explanation,
    body_text,
    decode_envelope,
    explained_steps,
    explanation_json,
    schema_verdict,
)
from processors.incidents import IncidentPolicy
from processors.pipeline import RawInput, process_raw
from processors.replay import Replayer
from tests.processors.helpers import NULLS_BODY, NULLS_PATHS, RECEIVED_AT, raw_input

FORM = "application/x-www-form-urlencoded"


def test_the_verdict_lists_every_schema_error() -> None:
    raw = raw_input("generic", NULLS_BODY)
    envelope, error = decode_envelope(raw)
    assert error is None
    verdict = schema_verdict(envelope, raw.value)
    assert verdict.checked
    assert [path for path, _ in verdict.errors] == NULLS_PATHS
    assert verdict.schema_file is not None
    assert verdict.schema_file.endswith("generic.schema.json")


def test_a_body_that_does_not_parse_is_not_checked_and_says_why() -> None:
    raw = raw_input("generic", b"{nope")
    verdict = schema_verdict(decode_envelope(raw)[0], raw.value)
    assert not verdict.checked
    assert verdict.unchecked_because == "the body did not parse (invalid_json)"
    envelope, error = decode_envelope(RawInput(b"{}", [], "alerts.raw", 0, 0))
    assert envelope is None
    assert error is not None
    assert "lacks headers" in error


def test_bodies_are_shown_pretty() -> None:
    assert body_text(b'{"a":[1,2]}', "application/json") == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert body_text(b"monitor_id=7&monitor_status=0", FORM) == "monitor_id = 7\nmonitor_status = 0"
    assert body_text(b"\xffnot json", "application/json") == "\ufffdnot json"


def test_the_incident_step_shows_the_state_before_and_after() -> None:
    replayer = Replayer({}, IncidentPolicy())
    first = b'{"message_type":"CRITICAL","entity_id":"e","timestamp":100}'
    again = b'{"message_type":"CRITICAL","entity_id":"e","timestamp":200}'
    replayer.feed(raw_input("generic", first, offset=1), RECEIVED_AT)
    raw = raw_input("generic", again, offset=2)
    [step] = explained_steps(replayer, raw, RECEIVED_AT)
    assert (step.decision, step.emitted) == ("duplicate", False)
    assert step.before is not None
    assert step.after is not None
    assert (step.before.suppressed, step.after.suppressed) == (0, 1)

    explanation = Explanation(
        named="raw",
        raw=raw,
        timestamp=RECEIVED_AT,
        envelope=decode_envelope(raw)[0],
        envelope_error=None,
        body=body_text(raw.value, "application/json"),
        verdict=schema_verdict(decode_envelope(raw)[0], raw.value),
        result=process_raw(raw, {}),
        steps=[step],
    )
    data = json.loads(json.dumps(explanation_json(explanation)))
    assert data["schema"]["valid"] is True
    assert data["alerts"][0]["entity_id"] == "e"
    assert data["incident"][0]["decision"] == "duplicate"
    assert data["incident"][0]["after"]["suppressed"] == 1
