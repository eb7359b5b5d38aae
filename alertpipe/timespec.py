"""Points in time as operators type them: ISO 8601 (``2025-03-17T19:43``, ``2025-03-17``,
with or without a zone; no zone means UTC), ``now``, or an age like ``2h``, ``90m``,
``1d12h`` (that long before now). Pure: ``now`` comes in as an argument."""

from __future__ import annotations

import datetime as dt
import re

from schemas.errors import UsageError

UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_AGE = re.compile(r"^(?:\d+[smhdw])+$")
_PART = re.compile(r"(\d+)([smhdw])")


class TimeSpecError(UsageError, ValueError):
    """Text that is neither an ISO 8601 time nor an age; the message shows both forms."""


def parse_time(text: str, now_ms: int) -> int:
    """Epoch milliseconds of ``text`` (see the module docstring)."""
    value = text.strip()
    if value.lower() == "now":
        return now_ms
    if _AGE.match(value.lower()):
        ago = sum(int(n) * UNITS_MS[unit] for n, unit in _PART.findall(value.lower()))
        return now_ms - ago
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise TimeSpecError(
            f"{text!r} is not a time: use ISO 8601 (2025-03-17T19:43:00Z) or an age (2h, 30m, 1d)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def parse_duration(text: str) -> int:
    """Milliseconds of a length like ``2h``, ``90m``, ``1d12h`` (the age form, unsigned)."""
    value = text.strip().lower()
    if not _AGE.match(value):
        raise TimeSpecError(f"{text!r} is not a length: use e.g. 2h, 90m, 1d12h")
    return sum(int(n) * UNITS_MS[unit] for n, unit in _PART.findall(value))
