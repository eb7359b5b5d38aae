"""Body bytes to data, by content type. Pure; errors are dead letters, never exceptions."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import orjson

from processors.deadletter import DeadLetter

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@lru_cache(maxsize=64)  # a handful of distinct values in practice; bounded all the same
def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_body(body: bytes, content_type: str, embedded: tuple[str, ...] = ()) -> Any | DeadLetter:
    """``embedded``: the source's top-level fields whose text is a JSON object
    (``SourceInfo.embedded_json``), decoded here so validation and mapping see the object."""
    # (what nearly every record says, as the ingress writes it: no parse of the header)
    if content_type != JSON and media_type(content_type) == FORM:
        return parse_form(body)
    data = parse_json(body)
    if embedded and type(data) is dict:
        return decode_embedded(data, embedded)
    return data


def decode_embedded(data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """``data`` with each of ``fields`` that is the text of a JSON object replaced by that
    object (a new dict: the parsed body is not changed). Any other value stays as it is, for
    the schema to judge (an SNS Message that is plain text is text)."""
    out = data
    for name in fields:
        text = data.get(name)
        if type(text) is not str or not text.lstrip().startswith("{"):
            continue
        decoded = parse_json(text.encode("utf-8", "surrogatepass"))
        if type(decoded) is dict:
            if out is data:
                out = dict(data)
            out[name] = decoded
    return out


# An integer beyond 64 bits becomes a lossy float in orjson: 20+ digits, or a minus sign and
# 19 digits (below -2**63). Found by mapping every ASCII digit to "0", "-" to itself and
# everything else to " ", then looking for those runs: the same answer as a regex search at a
# tenth of its cost (which was ~10 µs on a 1.7 kB body, the largest item of stage 1's
# profile). Both runs hold 19 digits, so one search for 19 rules both out (nearly every
# body: a second full search cost ~0.4 µs on 1.7 kB); only a body with such a run is searched
# for the two. A negative 19-digit integer that fits goes the slow way too: rare, and exact.
_DIGITS_AS_ZERO = bytes(
    0x30 if 0x30 <= b <= 0x39 else (b if b == 0x2D else 0x20) for b in range(256)
)
_RUN_19 = b"0" * 19
_LONG_RUN = b"0" * 20
_LONG_NEGATIVE = b"-" + _RUN_19


def has_long_digit_run(body: bytes) -> bool:
    """True when ``body`` holds 20 or more consecutive ASCII digits, or "-" and 19."""
    shape = body.translate(_DIGITS_AS_ZERO)
    if _RUN_19 not in shape:
        return False
    return _LONG_RUN in shape or _LONG_NEGATIVE in shape


def parse_json(body: bytes) -> Any | DeadLetter:
    fast_error = ""
    if not has_long_digit_run(body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            fast_error = str(exc)
    # The standard library keeps big integers exact and accepts what orjson refuses for its
    # own limits (lone surrogates), so a valid body is never dead-lettered for them.
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        return DeadLetter("invalid_json", f"body is not valid JSON: {fast_error or exc}")


def parse_form(body: bytes) -> dict[str, str] | DeadLetter:
    """application/x-www-form-urlencoded; a repeated field keeps its last value."""
    try:
        text = body.decode("ascii")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            encoding="utf-8",
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError) as exc:
        return DeadLetter("invalid_form", f"body is not a valid form: {exc}")
    return dict(pairs)
