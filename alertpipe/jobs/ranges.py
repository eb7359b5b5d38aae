"""Which offsets of a topic a command reads: from times (``--since``/``--until``) or offsets
(``--partition``, ``--from-offset``, ``--to-offset``). Pure: the broker's answers (first and
next offsets per partition, offsets found for the times) come in as arguments, so every rule
and every error message is tested without Kafka."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemas.errors import UsageError


class RangeError(UsageError, ValueError):
    """A range that cannot be read (no such topic or partition, offset out of range)."""


class RangeUsageError(RangeError):
    """Options that do not make a range together (a usage error)."""


@dataclass(frozen=True)
class OffsetRange:
    partition: int
    start: int  # first offset read
    end: int  # first offset not read

    @property
    def size(self) -> int:
        return max(0, self.end - self.start)


@dataclass(frozen=True)
class RangeRequest:
    partition: int | None = None
    from_offset: int | None = None
    to_offset: int | None = None  # inclusive, like the offsets an operator reads off a record
    since_ms: int | None = None
    until_ms: int | None = None  # exclusive


def _held(low: int, high: int) -> str:
    return f"holds offsets {low}-{high - 1}" if high > low else "holds no records"


def _check(topic: str, bounds: Mapping[int, tuple[int, int]], request: RangeRequest) -> None:
    offsets = {"--from-offset": request.from_offset, "--to-offset": request.to_offset}
    given = [o for o in offsets.values() if o is not None]
    if given and request.partition is None:
        raise RangeUsageError("--from-offset and --to-offset need --partition")
    if request.partition is not None and request.partition not in bounds:
        raise RangeError(
            f"{topic} has no partition {request.partition} "
            f"(it has partitions 0-{max(bounds, default=0)})"
        )
    since, until = request.since_ms, request.until_ms
    if since is not None and until is not None and until <= since:
        raise RangeUsageError("--until must be later than --since")
    first, last = request.from_offset, request.to_offset
    if first is not None and last is not None and last < first:
        raise RangeUsageError("--to-offset must not be below --from-offset")
    if request.partition is not None:
        low, high = bounds[request.partition]
        for offset in given:
            if not low <= offset < high:
                raise RangeError(
                    f"offset {offset} is out of range: {topic} partition {request.partition} "
                    f"{_held(low, high)}"
                )


def plan_ranges(
    topic: str,
    bounds: Mapping[int, tuple[int, int]],
    request: RangeRequest,
    since_offsets: Mapping[int, int | None] | None = None,
    until_offsets: Mapping[int, int | None] | None = None,
) -> list[OffsetRange]:
    """``bounds``: partition -> (first offset held, next offset to be written).
    ``since_offsets``/``until_offsets``: the first offset at or after each time, None when the
    partition has no record that late (Kafka's offsets_for_times). Raises RangeError."""
    _check(topic, bounds, request)
    wanted = [request.partition] if request.partition is not None else sorted(bounds)
    ranges = []
    for p in wanted:
        low, high = bounds[p]
        start = low if request.from_offset is None else request.from_offset
        end = high if request.to_offset is None else request.to_offset + 1
        if since_offsets is not None:
            found = since_offsets.get(p)
            start = max(start, high if found is None else found)
        if until_offsets is not None:
            found = until_offsets.get(p)
            end = min(end, high if found is None else found)
        ranges.append(OffsetRange(p, start, max(start, end)))
    return ranges


@dataclass(frozen=True)
class RecordRef:
    """``topic:partition:offset``, the way operators name one record."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def parse_ref(text: str) -> RecordRef:
    """Raises RangeUsageError for anything but ``topic:partition:offset`` (Kafka topic names
    cannot hold ':', so the last two fields are unambiguous)."""
    parts = text.strip().rsplit(":", 2)
    if len(parts) == 3 and parts[0] and parts[1].isdigit() and parts[2].isdigit():
        return RecordRef(parts[0], int(parts[1]), int(parts[2]))
    raise RangeUsageError(
        f"{text!r} is not a record reference: use topic:partition:offset, e.g. alerts.raw:2:1234"
    )
