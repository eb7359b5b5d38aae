"""Range planning: every rule and every message, without Kafka."""

from __future__ import annotations

import pytest

from alertpipe.jobs.ranges import (
    OffsetRange,
    RangeError,
    RangeRequest,
    RangeUsageError,
    RecordRef,
    parse_ref,
    plan_ranges,
)

BOUNDS = {0: (0, 100), 1: (40, 50), 2: (7, 7)}  # partition 2 is empty (all expired)


def test_the_whole_topic_by_default() -> None:
    assert plan_ranges("raw", BOUNDS, RangeRequest()) == [
        OffsetRange(0, 0, 100),
        OffsetRange(1, 40, 50),
        OffsetRange(2, 7, 7),
    ]


def test_times_become_offsets_per_partition() -> None:
    since = {0: 10, 1: None, 2: None}  # partition 1 has nothing that late
    until = {0: 60, 1: None, 2: None}  # None: nothing at or after --until, read to the end
    ranges = plan_ranges("raw", BOUNDS, RangeRequest(since_ms=1, until_ms=2), since, until)
    assert ranges == [OffsetRange(0, 10, 60), OffsetRange(1, 50, 50), OffsetRange(2, 7, 7)]
    assert sum(r.size for r in ranges) == 50


def test_offsets_are_inclusive_and_can_combine_with_times() -> None:
    request = RangeRequest(partition=0, from_offset=5, to_offset=9)
    assert plan_ranges("raw", BOUNDS, request) == [OffsetRange(0, 5, 10)]
    request = RangeRequest(partition=0, from_offset=5, since_ms=1)
    assert plan_ranges("raw", BOUNDS, request, {0: 20}) == [OffsetRange(0, 20, 100)]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (RangeRequest(partition=3), "raw has no partition 3 (it has partitions 0-2)"),
        (
            RangeRequest(partition=1, from_offset=10),
            "offset 10 is out of range: raw partition 1 holds offsets 40-49",
        ),
        (
            RangeRequest(partition=0, to_offset=100),
            "offset 100 is out of range: raw partition 0 holds offsets 0-99",
        ),
        (
            RangeRequest(partition=2, from_offset=7),
            "offset 7 is out of range: raw partition 2 holds no records",
        ),
    ],
)
def test_out_of_range(request_: RangeRequest, message: str) -> None:
    with pytest.raises(RangeError) as caught:
        plan_ranges("raw", BOUNDS, request_)
    assert str(caught.value) == message
    assert not isinstance(caught.value, RangeUsageError)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (RangeRequest(from_offset=1), "need --partition"),
        (RangeRequest(since_ms=5, until_ms=5), "--until must be later than --since"),
        (RangeRequest(partition=0, from_offset=9, to_offset=8), "must not be below"),
    ],
)
def test_usage_errors(request_: RangeRequest, message: str) -> None:
    with pytest.raises(RangeUsageError, match=message):
        plan_ranges("raw", BOUNDS, request_)


def test_record_references() -> None:
    assert parse_ref("alerts.raw:2:1234") == RecordRef("alerts.raw", 2, 1234)
    assert str(RecordRef("alerts.dead-letter", 0, 5)) == "alerts.dead-letter:0:5"


@pytest.mark.parametrize("text", ["alerts.raw:2", "alerts.raw:x:1", ":1:2", "alerts.raw:1:-2", ""])
def test_malformed_references_say_the_form(text: str) -> None:
    with pytest.raises(RangeUsageError, match="use topic:partition:offset"):
        parse_ref(text)
