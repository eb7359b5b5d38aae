"""The core's fast paths against the plain code they stand in for: the same answer on any
input (``processors.draft.utc_text_ms`` vs strptime, ``alert_id_for`` vs ``uuid.uuid5``, stage
2's partial parse of an alert vs parsing it whole)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.draft import utc_text_ms
from processors.pipeline import process_raw
from processors.stage_two import _head_and_tail, facts_of, stage_one_headers
from schemas.normalized import ALERT_ID_NAMESPACE, RawRef, alert_id_for
from tests.processors.helpers import raw_input
from tests.processors.strategies import variants


def strptime_ms(value: object) -> int | None:
    """The reference: strptime of the first 19 characters, as UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.strptime(value.strip()[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return int(parsed.replace(tzinfo=dt.UTC).timestamp() * 1000)


def canonical(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S").rjust(19, "0")


@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)))
def test_the_zero_padded_form_reads_as_strptime_reads_it(moment: dt.datetime) -> None:
    text = canonical(moment)
    assert utc_text_ms(text) == strptime_ms(text)


@given(
    st.datetimes()
    .map(canonical)
    .flatmap(
        lambda text: st.sampled_from(
            [
                text,
                f" {text}.25 ",
                text.replace("-0", "-", 1),  # not zero-padded: strptime's path
                text.replace(" ", "T"),
                text[:-2] + "60",  # out of range
                text.replace("0", "\u0660"),  # a non-ASCII digit (Arabic-Indic zero)
            ]
        )
    )
    | st.text(alphabet="0123456789-: T.", max_size=24)
    | st.none()
    | st.integers()
)
def test_any_text_reads_as_strptime_reads_it(value: object) -> None:
    assert utc_text_ms(value) == strptime_ms(value)


@given(st.text(max_size=40), st.integers(0, 2**31), st.integers(0, 2**63), st.integers(0, 999))
def test_alert_ids_are_uuid5(topic: str, partition: int, offset: int, index: int) -> None:
    name = f"{topic}/{partition}/{offset}/{index}"
    expected = str(uuid.uuid5(ALERT_ID_NAMESPACE, name))
    assert alert_id_for(RawRef(topic, partition, offset), index) == expected


SOURCES = ["thousandeyes", "pingometer", "generic", "alertmanager", "grafana"]
# Text that looks like the keys stage 2 looks for, in the details (keys and values).
LOOKALIKES = {
    "routing": {"requested": "x", "teams": []},
    "raw": {"topic": "t", "partition": 99, "offset": 99},
    "text": ',"routing":{ ,"raw":{"topic": \\", "\\\\',
    ',"raw":{"topic":': ',"routing":{',
}


def lookalike() -> dict[str, object]:
    """A fresh copy of LOOKALIKES (its values are dicts a body may share)."""
    copied: dict[str, object] = json.loads(json.dumps(LOOKALIKES))
    return copied


def whole_facts(encoded: bytes, fingerprint: str) -> tuple[object, ...]:
    alert = json.loads(encoded)
    facts = facts_of(alert, stage_one_headers(fingerprint))
    return facts, alert["raw"], alert.get("is_test")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), lookalikes=st.booleans())
def test_stage_two_reads_the_facts_a_whole_parse_gives(
    data: st.DataObject, lookalikes: bool
) -> None:
    """Stage 2 parses the head and the tail of a large stage-1 alert only (``_head_and_tail``):
    the same facts as parsing it whole, on any body stage 1 maps, whatever its details hold."""
    source = data.draw(st.sampled_from(SOURCES))
    body = data.draw(variants(source))
    if lookalikes and isinstance(body, dict):  # at the top and one level down
        body = {**lookalike(), **body}
        for value in body.values():
            if isinstance(value, dict):
                value.update({k: v for k, v in lookalike().items() if k not in value})
    text = json.dumps(body, ensure_ascii=data.draw(st.booleans()))
    result = process_raw(raw_input(source, text.encode()), {})
    for encoded, fingerprint in zip(result.encoded, result.fingerprints, strict=True):
        alert = _head_and_tail(encoded)
        assert alert is not None
        got = facts_of(alert, stage_one_headers(fingerprint)), alert["raw"], alert.get("is_test")
        assert got == whole_facts(encoded, fingerprint)
