"""Stage 2 re-encodes the alerts it emits (to set ``duplicates_suppressed``): integers wider
than 64 bits in a body's details must come out exact, as stage 1 wrote them."""

from __future__ import annotations

import json

from processors.incidents import IncidentPolicy
from processors.pipeline import RawInput, process_raw
from processors.stage_two import decide_alert, stage_one_headers
from schemas.raw import RawHeaders

HUGE = 2**70 + 1


def test_integers_beyond_64_bits_survive_stage_two() -> None:
    headers = RawHeaders(
        source="generic",
        org="acme",
        key_id="k1",
        routing_key="ops",
        content_type="application/json",
        received_at=1_700_000_000_000,
        request_id="r1",
        remote_addr="127.0.0.1",
        user_agent="test",
        entity_id=None,
    ).to_kafka()
    body = json.dumps({"message_type": "CRITICAL", "entity_id": "db1", "count": HUGE}).encode()
    staged = process_raw(RawInput(body, headers, "alerts.raw", 0, 7), {})
    assert staged.dead_letter is None, staged.dead_letter
    assert json.loads(staged.encoded[0])["details"]["count"] == HUGE  # stage 1 keeps it
    wire = stage_one_headers(staged.fingerprints[0])
    decided = decide_alert(None, staged.encoded[0], wire, 1_700_000_000_000, IncidentPolicy())
    assert decided.emitted is not None
    assert json.loads(decided.emitted)["details"]["count"] == HUGE
