"""An operator's ack or resolve as a raw record (``alertpipe.jobs.operator_events``): what the
ingress would have written for the same generic POST, and the decision the worker's own
functions give it against each state."""

from __future__ import annotations

import orjson
import pytest

from alertpipe.jobs.operator_events import OPERATOR_KEY_ID, Action, operator_event, preview
from processors.incidents import IncidentPolicy, IncidentState
from schemas.raw import RawHeaders, raw_record_key

NOW = 1_796_000_000_000
OPEN = IncidentState("open", "CRITICAL", NOW - 60_000, NOW - 60_000, NOW - 1, 3, 2, ("body:x",))
ACKED = IncidentState("acknowledged", "CRITICAL", NOW - 1, NOW - 60_000, NOW - 1, 4, 0, ())
RESOLVED = IncidentState("resolved", None, NOW - 1, NOW - 60_000, NOW - 1, 5, 0, ())


def test_the_raw_record_is_a_generic_post() -> None:
    event = operator_event("ack", "acme", "db/1", "ana", "on it", "", NOW)
    headers = RawHeaders.from_kafka(event.headers())
    assert (headers.source, headers.org, headers.entity_id) == ("generic", "acme", "db/1")
    assert (headers.key_id, headers.received_at, headers.routing_key) == (OPERATOR_KEY_ID, NOW, "")
    assert event.key() == raw_record_key("acme", "")
    body = orjson.loads(event.body())
    assert body["message_type"] == "ACKNOWLEDGEMENT"
    assert (body["ack_author"], body["ack_msg"], body["state_message"]) == ("ana", "on it", "on it")
    assert "timestamp" not in body  # event time = received_at: never "late"
    resolve = orjson.loads(operator_event("resolve", "acme", "db/1", "ana", None, "", NOW).body())
    assert resolve["message_type"] == "RECOVERY"
    assert resolve["state_message"] == "resolved by ana (alertpipe incidents)"
    assert "ack_msg" not in resolve


@pytest.mark.parametrize(
    ("action", "state", "emit", "reason"),
    [
        ("ack", OPEN, True, "acknowledge"),
        ("ack", ACKED, False, "duplicate"),
        ("ack", RESOLVED, False, "not_open"),
        ("ack", None, True, "unknown_incident"),
        ("resolve", OPEN, True, "resolve"),
        ("resolve", ACKED, True, "resolve"),
        ("resolve", RESOLVED, False, "resolved_again"),
        ("resolve", None, True, "unknown_incident"),
    ],
)
def test_the_preview_is_the_state_machines_decision(
    action: Action, state: IncidentState | None, emit: bool, reason: str
) -> None:
    event = operator_event(action, "acme", "db/1", "ana", None, "", NOW)
    seen = preview(event, state, "alerts.raw", {}, None, IncidentPolicy())
    assert seen.decision is not None
    assert (seen.decision.emit, seen.decision.reason) == (emit, reason)
    assert seen.alert is not None
    assert seen.alert["incident_key"] == "acme/db/1"
    assert seen.alert["details"]["ack_author"] == "ana"
