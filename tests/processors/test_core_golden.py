"""The pure core against its frozen outputs (``tests.processors.golden``): speeding the core up
must not change a byte that stage 1 or stage 2 publishes, nor a decision or a stored state."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.incidents import IncidentPolicy
from processors.parse import parse_json
from processors.pipeline import process_raw
from processors.stage_two import decide_alert, with_count
from schemas.normalized import dump_json
from schemas.registry import load_sources
from tests.processors.golden import corpus, load, run_core
from tests.processors.helpers import raw_input
from tests.processors.strategies import variants


def test_the_core_reproduces_its_frozen_outputs() -> None:
    pairs = load()
    got = run_core([case for case, _ in pairs])
    for n, ((case, frozen), now) in enumerate(zip(pairs, got, strict=True)):
        assert now == frozen, (
            f"case {n} (offset {case['offset']}): body {case['body'][:120]!r}\n"
            f"frozen: {json.dumps(frozen)[:1500]}\nnow:    {json.dumps(now)[:1500]}"
        )


def test_the_frozen_corpus_is_the_generated_one() -> None:
    """The file holds what ``corpus()`` builds (so ``write()`` only ever changes outputs)."""
    assert [case for case, _ in load()] == corpus()


def test_the_corpus_reaches_every_kind_of_outcome() -> None:
    """Dead letters of several kinds, alerts of every source (each source folder's too),
    emitted and suppressed alike."""
    outputs = [record for _, frozen in load() for record in frozen["published"]]
    letters = Counter(
        dict(record["headers"]).get("error.code") for record in outputs if record["dead_letter"]
    )
    reasons = Counter(record["decision"][1] for record in outputs if not record["dead_letter"])
    sources = Counter(frozen["source"] for _, frozen in load())
    assert len(letters) >= 4, letters
    assert {"open", "redelivery", "duplicate", "resolve"} <= set(reasons), reasons
    assert {"thousandeyes", "pingometer", "generic", "unknown"} <= set(sources), sources
    emitted = Counter(
        frozen["source"]
        for _, frozen in load()
        if any(r.get("decision", [False])[0] for r in frozen["published"])
    )
    assert set(load_sources()) <= set(emitted), emitted  # every source's alerts, emitted


SOURCES = ["thousandeyes", "pingometer", "generic"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), count=st.integers(0, 10**9))
def test_the_count_goes_where_re_encoding_the_alert_puts_it(
    data: st.DataObject, count: int
) -> None:
    """Stage 2 writes its count into the stage-1 bytes (``with_count``) instead of parsing
    and encoding the alert again: on any body stage 1 maps, both give the same bytes."""
    source = data.draw(st.sampled_from(SOURCES))
    body = json.dumps(data.draw(variants(source)), ensure_ascii=data.draw(st.booleans()))
    result = process_raw(raw_input(source, body.encode()), {})
    for encoded in result.encoded:
        alert = parse_json(encoded)
        assert isinstance(alert, dict)
        alert["duplicates_suppressed"] = count
        assert with_count(encoded, count) == dump_json(alert)


def test_a_record_in_another_form_is_re_encoded() -> None:
    """A stage-1 record that does not end as stage 1 writes (another field order, spaces):
    decided all the same, its count set by parsing and encoding it."""
    alert = {"duplicates_suppressed": 0, "schema_version": 1, "message_type": "RECOVERY",
             "event_time": 5, "received_at": 6, "alert_id": "a"}  # fmt: skip
    value = json.dumps(alert).encode()
    assert with_count(value, 2) is None
    decided = decide_alert(None, value, [], 10, IncidentPolicy())
    assert decided.emitted is not None
    assert json.loads(decided.emitted) == alert
