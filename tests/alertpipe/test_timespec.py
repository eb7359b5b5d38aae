from __future__ import annotations

import pytest

from alertpipe.timespec import TimeSpecError, parse_duration, parse_time

NOW = 1_742_240_600_000  # 2025-03-17T19:43:20Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("90s", NOW - 90_000),
        ("30m", NOW - 1_800_000),
        ("2h", NOW - 7_200_000),
        ("1d12h", NOW - 129_600_000),
        ("1W", NOW - 604_800_000),
        ("2025-03-17T19:43:20Z", NOW),
        ("2025-03-17T19:43:20", NOW),  # no zone: UTC
        ("2025-03-17 20:43:20+01:00", NOW),
        ("2025-03-17", NOW - (19 * 3600 + 43 * 60 + 20) * 1000),
    ],
)
def test_times_and_ages(text: str, expected: int) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2x", "-2h", "h", "", "2025-13-01"])
def test_anything_else_says_what_is_accepted(text: str) -> None:
    with pytest.raises(TimeSpecError, match=r"ISO 8601 .* or an age"):
        parse_time(text, NOW)


def test_lengths_for_maintenance_windows() -> None:
    assert parse_duration("2h") == 7_200_000
    assert parse_duration(" 1D12h ") == 129_600_000
    for text in ("now", "-2h", "2025-03-17", ""):
        with pytest.raises(TimeSpecError, match="not a length"):
            parse_duration(text)
