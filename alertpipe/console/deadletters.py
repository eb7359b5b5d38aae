"""The dead-letter topic as the console lists it, pure: one small summary per dead letter (the
body stays in Kafka and is fetched for the one shown), counts by code and source per hour, and
filtered pages, newest first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

HOUR_MS = 3_600_000
Headers = Sequence[tuple[str, bytes | None]]


@dataclass(frozen=True, slots=True)
class DeadLetterSummary:
    partition: int
    offset: int
    timestamp: int  # when the worker wrote it (Kafka timestamp, epoch ms)
    code: str
    source: str
    org: str
    message: str
    path: str
    redrive_of: str  # "" unless a redrive wrote it back


@dataclass(frozen=True)
class DeadLetterFilter:
    code: str | None = None
    source: str | None = None
    org: str | None = None

    def matches(self, d: DeadLetterSummary) -> bool:
        return (
            (self.code is None or d.code == self.code)
            and (self.source is None or d.source == self.source)
            and (self.org is None or d.org == self.org)
        )


def summary_of(partition: int, offset: int, timestamp: int, headers: Headers) -> DeadLetterSummary:
    found = {k: (v or b"").decode("utf-8", "replace") for k, v in headers}
    return DeadLetterSummary(
        partition, offset, timestamp, found.get("error.code", "?"), found.get("source", "?"),
        found.get("org", "?"), found.get("error.message", "")[:300], found.get("error.path", ""),
        found.get("redrive.of", ""),
    )  # fmt: skip


class DeadLetterIndex:
    def __init__(self) -> None:
        self.letters: list[DeadLetterSummary] = []  # in arrival order
        self.hourly: Counter[tuple[int, str, str]] = Counter()  # (hour start, code, source)
        self.codes: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()

    def feed(self, partition: int, offset: int, timestamp: int, headers: Headers) -> None:
        letter = summary_of(partition, offset, timestamp, headers)
        self.letters.append(letter)
        self.hourly[(timestamp - timestamp % HOUR_MS, letter.code, letter.source)] += 1
        self.codes[letter.code] += 1
        self.sources[letter.source] += 1

    def page(
        self, wanted: DeadLetterFilter, start: int, size: int
    ) -> tuple[list[DeadLetterSummary], int]:
        """Newest first: the ``size`` matching from the ``start``-th on, and how many match."""
        if wanted == DeadLetterFilter():
            total = len(self.letters)
            end = total - start
            return self.letters[max(0, end - size) : max(0, end)][::-1], total
        matching = [d for d in reversed(self.letters) if wanted.matches(d)]
        return matching[start : start + size], len(matching)

    def per_hour(self, now_ms: int, hours: int, wanted: DeadLetterFilter) -> list[int]:
        """Counts per hour of the last ``hours`` (oldest first) matching ``wanted``."""
        first = now_ms - now_ms % HOUR_MS - (hours - 1) * HOUR_MS
        counts = [0] * hours
        for (hour, code, source), n in self.hourly.items():
            slot = (hour - first) // HOUR_MS
            if (
                0 <= slot < hours
                and (wanted.code in (None, code))
                and (wanted.source in (None, source))
            ):
                counts[slot] += n
        return counts
