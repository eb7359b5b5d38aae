"""Value conversions of declarative mappings: values as text, filters, and time formats
(to epoch milliseconds). Pure."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from processors.draft import epoch_ms, utc_text_ms
from processors.fieldpath import SpecError, Where


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def labels_hash(value: Any) -> str:
    """A stable 16-hex-digit id of a label set (any JSON value), key order ignored."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


def arn_part(index: int) -> Callable[[Any], str | None]:
    """Field ``index`` of an Amazon Resource Name (``arn:partition:service:region:account:
    resource``); missing when the value is not an ARN or the field is empty."""

    def part(value: Any) -> str | None:
        if type(value) is not str or not value.startswith("arn:"):
            return None
        fields = value.split(":", 5)
        return fields[index] or None if len(fields) == 6 else None

    return part


# Text filters apply to the value as text; the others to the value itself.
TEXT_FILTERS: dict[str, Callable[[str], str]] = {
    "strip": str.strip,
    "lower": str.lower,
    "upper": str.upper,
}
FILTERS: dict[str, Callable[[Any], Any]] = {
    "strip": lambda v: as_text(v).strip(),
    "lower": lambda v: as_text(v).lower(),
    "upper": lambda v: as_text(v).upper(),
    "labels_hash": labels_hash,
    # missing when only white space (the value itself otherwise)
    "nonblank": lambda v: None if isinstance(v, str) and not v.strip() else v,
    # percent-encoded for a URL's path or query (every reserved character, "/" too)
    "urlencode": lambda v: quote(as_text(v), safe=""),
    "arn_partition": arn_part(1),
    "arn_region": arn_part(3),
    "arn_account": arn_part(4),
}


def filter_chain(names: list[str]) -> Callable[[Any], Any]:
    """One function applying ``names`` in order (a run of text filters as str methods)."""
    if names and all(n in TEXT_FILTERS for n in names):
        ops = [TEXT_FILTERS[n] for n in names]
        if len(ops) == 1:
            op = ops[0]
            return lambda v: op(v if type(v) is str else as_text(v))
        if len(ops) == 2:
            op1, op2 = ops
            return lambda v: op2(op1(v if type(v) is str else as_text(v)))

        def text_ops(v: Any) -> str:
            text = v if type(v) is str else as_text(v)
            for op in ops:
                text = op(text)
            return text

        return text_ops
    funcs = [FILTERS[n] for n in names]
    if len(funcs) == 1:
        return funcs[0]

    def chain(v: Any) -> Any:
        for f in funcs:
            v = f(v)
        return v

    return chain


def rfc3339_ms(value: Any) -> int | None:
    """RFC 3339 / ISO 8601 text -> epoch ms; Go's zero time (year 1) and any time at or
    before the epoch are None (Alertmanager's ``endsAt`` of a firing alert)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed.year < 1971:
        return None
    return int(parsed.timestamp() * 1000)


def _strptime_ms(fmt: str) -> Callable[[Any], int | None]:
    def parse(value: Any) -> int | None:
        if not isinstance(value, str):
            return None
        try:
            parsed = dt.datetime.strptime(value, fmt)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        stamp = parsed.timestamp()
        return int(stamp * 1000) if stamp > 0 else None

    return parse


TIMES: dict[str, Callable[[Any], int | None]] = {
    "rfc3339": rfc3339_ms,
    "epoch": epoch_ms,
    "utc_text": utc_text_ms,
}


def time_parser(fmt: Any, where: Where) -> Callable[[Any], int | None]:
    if isinstance(fmt, str) and fmt in TIMES:
        return TIMES[fmt]
    if isinstance(fmt, str) and "%" in fmt:
        return _strptime_ms(fmt)
    raise SpecError(where, f"time is one of {', '.join(TIMES)} or a strptime format")
