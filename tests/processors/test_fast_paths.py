"""The core's fast paths against the plain code they stand in for: the same answer on any
input (``processors.draft.utc_text_ms`` vs strptime, ``alert_id_for`` vs ``uuid.uuid5``, stage
2's partial parse of an alert vs parsing it whole, stage 1's encoding of each new alert vs
``encode_alert``, the big-integer check vs a regex, the headers' fast decode vs the checked
one)."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.draft import utc_text_ms
from processors.parse import has_long_digit_run
from processors.pipeline import process_raw
from processors.stage_two import _head_and_tail, facts_of, stage_one_headers
from schemas.normalized import ALERT_ID_NAMESPACE, RawRef, alert_id_for, encode_alert
from schemas.raw import HEADER_NAMES, RawHeaders
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
    "routing": {"requested": "x", "teams": ["lookalike"]},
    "raw": {"topic": "t", "partition": 99, "offset": 99},
    "text": ',"routing":{ ,"raw":{"topic": \\", "\\\\',
    ',"raw":{"topic":': ',"routing":{',
    '},"incident_key":': '"teams":["lookalike"]},"incident_key":',
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


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_new_alert_is_encoded_as_encode_alert_encodes_it(data: st.DataObject) -> None:
    """Stage 1 builds each alert's bytes from the values it builds the alert of
    (``schemas.normalized.new_alert``): the bytes of the codec itself, on any body it maps."""
    source = data.draw(st.sampled_from(SOURCES))
    body = json.dumps(data.draw(variants(source)), ensure_ascii=data.draw(st.booleans()))
    result = process_raw(raw_input(source, body.encode()), {})
    assert [encode_alert(alert) for alert in result.alerts] == list(result.encoded)


LONG_INTEGER = re.compile(rb"[0-9]{20}|-[0-9]{19}")


@given(st.lists(st.sampled_from([b"1", b"9", b"0", b"-", b" ", b'"', b"x", b"1" * 9]), max_size=60))
def test_big_integers_are_found_as_a_regex_finds_them(parts: list[bytes]) -> None:
    body = b"".join(parts)
    assert has_long_digit_run(body) == (LONG_INTEGER.search(body) is not None)


HEADER_VALUES = st.one_of(
    st.none(),
    st.sampled_from([b"", b"1742240600000", b"soon", b"\xff\xfe", "é".encode(), b" 7 "]),
    st.binary(max_size=8),
)


def decoded(headers: list[tuple[str, bytes | None]], decode: object) -> object:
    """The record a decode gives, or the error it raises (its type and text)."""
    assert callable(decode)
    try:
        return decode(headers)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=500)
@given(
    names=st.lists(st.sampled_from([*HEADER_NAMES, "other"]), max_size=14),
    values=st.lists(HEADER_VALUES, min_size=14, max_size=14),
    drop=st.booleans(),
)
def test_headers_decode_as_the_checked_decode_does(
    names: list[str], values: list[bytes | None], drop: bool
) -> None:
    """``RawHeaders.from_kafka`` reads by name and decodes strictly first; the checked path
    (every name checked, then decoded) gives the same record or the same error."""
    base = RawHeaders("s", "o", "k", "r", "c", 5, "q", "a", "u").to_kafka()
    if drop:
        base = base[1:]
    headers: list[tuple[str, bytes | None]] = [*base, *zip(names, values, strict=False)]
    assert decoded(headers, RawHeaders.from_kafka) == decoded(
        headers,
        lambda h: RawHeaders._checked(dict(h)),
    )


@pytest.mark.parametrize("source", SOURCES)
def test_the_fixtures_decode_their_headers_alike(source: str) -> None:
    headers = raw_input(source, b"{}").headers
    assert RawHeaders.from_kafka(headers) == RawHeaders._checked(dict(headers))


def test_a_null_header_beside_one_that_is_not_utf8_is_a_bad_envelope() -> None:
    """Not an AttributeError out of stage 1 (the lenient decode met the null value): the
    same error as a null header alone."""
    headers = [*raw_input("generic", b"{}").headers, ("org", b"\xff"), ("user_agent", None)]
    with pytest.raises(ValueError, match="without a value: user_agent"):
        RawHeaders.from_kafka(headers)  # type: ignore[arg-type]
