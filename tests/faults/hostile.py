"""Hostile request bodies (hypothesis strategies, bytes): random JSON, deep nesting, huge
strings, invalid UTF-8, numbers beyond 2^63, and near-valid variants of every source's
samples. Built on the processors' strategies; this adds what only the wire can carry."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

from tests.processors.strategies import json_values, structured, variants

BEYOND_2_63 = st.integers(2**63, 2**200) | st.integers(-(2**200), -(2**63) - 1)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(100, 20_000))
    if draw(st.booleans()):
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@st.composite
def huge_string(draw: st.DrawFn, source: str) -> bytes:
    """A body whose one field is long (sometimes past the 512 KiB limit: 413)."""
    size = draw(st.sampled_from([1_000, 20_480, 20_481, 100_000, 1_100_000]))
    body: dict[str, Any] = draw(structured(source))
    body[draw(st.sampled_from(["state_message", "entity_id", "message", "extra"]))] = "é" * (
        size // 2
    )
    return _dumps(body)


@st.composite
def big_numbers(draw: st.DrawFn, source: str) -> bytes:
    body: Any = draw(structured(source))
    for key in draw(st.lists(st.sampled_from(sorted(body) or ["x"]), min_size=1, max_size=3)):
        body[key] = draw(BEYOND_2_63)
    if source == "thousandeyes" and isinstance(body.get("alert"), dict):
        body["alert"]["alertId"] = draw(BEYOND_2_63)
    return _dumps(body)


@st.composite
def invalid_utf8(draw: st.DrawFn, source: str) -> bytes:
    text = _dumps(draw(structured(source)))
    at = draw(st.integers(0, len(text)))
    return (
        text[:at]
        + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"]))
        + text[at:]
    )


@st.composite
def form_body(draw: st.DrawFn) -> bytes:
    fields = draw(structured("pingometer"))
    return urlencode({k: str(v) for k, v in fields.items()}).encode() + draw(
        st.sampled_from([b"", b"&%zz=1", b"&a=\xff", b"&&&=", b"&monitor_id=2"])
    )


def bodies(source: str) -> st.SearchStrategy[tuple[str, bytes]]:
    """(content type, body) for one source."""
    as_json = (
        json_values.map(_dumps)
        | deep()
        | huge_string(source)
        | big_numbers(source)
        | invalid_utf8(source)
        | variants(source).map(_dumps)
        | structured(source).map(_dumps)
        | st.binary(max_size=200)
    )
    found = st.tuples(st.just("application/json"), as_json)
    if source == "pingometer":
        found |= st.tuples(st.just("application/x-www-form-urlencoded"), form_body())
    return found
