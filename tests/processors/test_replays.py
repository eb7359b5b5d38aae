"""At-least-once: stage 1 of a worker taking over a raw partition publishes again the alerts
its predecessor had published but not committed; stage 2 skips those copies by their raw
offsets (``processors.stage_two.Applied``) and decides exactly as one clean pass would."""

from __future__ import annotations

import json

from processors.incidents import IncidentPolicy, IncidentState
from processors.pipeline import RawInput
from processors.stage_one import Output, stage_one
from processors.stage_two import REDRIVEN_HEADER, REPLAYED, Applied, decide_alert
from tests.processors.helpers import raw_input

NOW = 1_742_240_700_000
POLICY = IncidentPolicy()


def generic(message_type: str, offset: int, partition: int = 0) -> Output:
    body = json.dumps({"message_type": message_type, "entity_id": "disk/db1"}).encode()
    base = raw_input("generic", body, offset=offset)
    raw = RawInput(base.value, base.headers, base.topic, partition, offset)
    _, outputs = stage_one(raw, b"acme/team-a", {}, None)
    assert len(outputs) == 1
    assert not outputs[0].dead_letter
    return outputs[0]


def run(
    records: list[Output], applied: Applied | None
) -> tuple[list[tuple[str, bytes | None]], IncidentState | None]:
    state: IncidentState | None = None
    decisions = []
    for out in records:
        decided = decide_alert(state, out.value, out.headers, NOW, POLICY, applied)
        state, applied = decided.state, decided.applied
        decisions.append((decided.decision.reason, decided.emitted))
    return decisions, state


def test_copies_after_a_failover_are_skipped_and_the_rest_decided_as_one_pass() -> None:
    """INFO (same body each time, so a content fingerprint), RECOVERY, INFO again: copied
    after the recovery, the first INFO would be emitted again and its fingerprint would then
    suppress the genuine repeat that follows."""
    stream = [generic("CRITICAL", 10), generic("INFO", 11), generic("RECOVERY", 12)]
    later = [generic("INFO", 13)]
    clean, clean_state = run(stream + later, applied={})
    copied, copied_state = run(stream + stream[1:] + later, applied={})
    assert copied[:3] == clean[:3]
    assert [reason for reason, _ in copied[3:5]] == [REPLAYED, REPLAYED]
    assert copied[5] == clean[3]
    assert copied_state == clean_state
    unguarded, _ = run(stream + stream[1:] + later, applied=None)
    assert unguarded[5] != clean[3], "without the guard the copy changes a later decision"


def test_offsets_count_per_raw_partition() -> None:
    """An incident's alerts come from several raw partitions (one per routing key)."""
    decisions, _ = run([generic("CRITICAL", 50, partition=1), generic("INFO", 7, partition=2)], {})
    assert [reason for reason, _ in decisions] == ["open", "info"]


def test_a_redriven_alert_is_decided_though_its_raw_offset_is_old() -> None:
    first = generic("CRITICAL", 40)
    redriven = generic("RECOVERY", 5)
    headers = [*redriven.headers, (REDRIVEN_HEADER, b"alerts.dead-letter:0:3")]
    opened = decide_alert(None, first.value, first.headers, NOW, POLICY, {})
    resolved = decide_alert(opened.state, redriven.value, headers, NOW, POLICY, opened.applied)
    assert resolved.decision.reason == "resolve"
    assert resolved.applied == opened.applied
