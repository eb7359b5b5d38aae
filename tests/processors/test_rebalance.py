"""The worker's consumer keeps no read offsets (so it drops no record fetched again after a
rebalance) and refuses acks of records fetched in an earlier consumer generation. The
end-to-end check is the two-worker fault tests (tests/faults/test_worker_faults.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faust.types import TP
from faust.types.tuples import Message

from processors.rebalance import (
    HeadWatch,
    NoReadOffsets,
    RebalanceSafeConsumer,
    WorkerApp,
    head_missing,
    of_generation,
)

RAW = TP("alerts.raw", 0)


def message(offset: int, generation: int) -> Message:
    return Message(
        RAW.topic, RAW.partition, offset, 0.0, 0, [], b"k", b"v", None, generation_id=generation
    )


def app(tmp_path: Path) -> Any:
    # nothing connects until the app starts
    found = WorkerApp("rebalance-test", broker="kafka://127.0.0.1:9", datadir=str(tmp_path))
    found.topic(RAW.topic)  # acks are enabled for the topics the app consumes
    return found


def test_no_read_offset_is_kept() -> None:
    offsets = NoReadOffsets()
    offsets[RAW] = 1375
    offsets.update({RAW: 1400})
    assert offsets[RAW] is None
    assert offsets.pop(RAW, None) is None
    assert len(offsets) == 0


async def test_acks_from_an_earlier_generation_are_refused_and_no_commit_skips_a_record(
    tmp_path: Path,
) -> None:
    worker = app(tmp_path)
    consumer = worker.consumer
    try:
        assert isinstance(consumer, RebalanceSafeConsumer)
        assert consumer._read_offset[RAW] is None
        worker.consumer_generation_id = 4
        worker.topics._acking_topics.add(RAW.topic)
        # the flow is suspended from revocation until the seek to the committed offsets
        assert consumer.ack(message(9, generation=4)) is False
        worker.flow_control.resume()
        stale, fresh = message(10, generation=3), message(11, generation=4)
        assert consumer.ack(stale) is False
        assert consumer.ack(fresh) is True
        assert list(consumer._acked[RAW]) == [11]
        # committed 10 (the next to process): 11 acked alone must not commit past 10
        consumer._committed_offset[RAW] = 10
        assert consumer._new_offset(RAW) is None
        assert consumer.ack(message(10, generation=4)) is True
        assert consumer._new_offset(RAW) == 12
    finally:
        consumer._thread.thread_loop.close()  # the never-started consumer thread's own loop


def test_only_events_of_the_current_generation_are_kept() -> None:
    class Event:
        def __init__(self, msg: Message) -> None:
            self.message = msg

    events = [Event(message(1, 3)), Event(message(2, 4)), Event(message(3, 4))]
    assert [e.message.offset for e in of_generation(events, 4)] == [2, 3]


def test_a_head_is_missing_only_when_later_records_are_acked_without_it() -> None:
    assert head_missing(10, [11, 12])
    assert not head_missing(10, [10, 11])
    assert not head_missing(10, [])
    assert not head_missing(None, [11])  # no committed offset known: nothing to compare


def test_the_watch_reports_a_partition_missing_its_head_for_the_whole_period() -> None:
    other = TP("alerts.raw", 1)
    watch = HeadWatch(after_s=10)
    assert watch.overdue({RAW: True, other: False}, now=100) == []
    assert watch.overdue({RAW: True, other: True}, now=109.9) == []
    assert watch.overdue({RAW: True, other: True}, now=110) == [RAW]
    assert watch.overdue({RAW: True, other: True}, now=115) == []  # RAW's clock started again
    assert watch.overdue({RAW: False, other: True}, now=119.9) == [other]
    assert watch.overdue({RAW: True, other: False}, now=125) == []  # RAW's head came back
    watch.reset()
    assert watch.overdue({RAW: True}, now=200) == []


async def test_a_partition_whose_head_was_dropped_is_sought_back_to_it(tmp_path: Path) -> None:
    worker = app(tmp_path)
    consumer = worker.consumer
    sought: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        sought.append((tp, offset))

    try:
        assert isinstance(consumer, RebalanceSafeConsumer)
        assert "_head_watch" in str(RebalanceSafeConsumer._tasks)  # mode runs it every second
        consumer.assignment = lambda: {RAW}  # type: ignore[method-assign]
        consumer.seek_in_thread = seek  # type: ignore[method-assign]
        consumer._heads = HeadWatch(after_s=0)
        worker.topics._acking_topics.add(RAW.topic)
        consumer._committed_offset[RAW] = 10
        consumer._acked[RAW] = [11, 12]
        await consumer.refetch_dropped_heads()
        assert sought == []  # flow suspended (a rebalance seeks everything anyway)
        worker.flow_control.resume()
        consumer.resume_flow()
        worker.consumer_generation_id = 5
        await consumer.refetch_dropped_heads()
        assert sought == []  # a new generation: its clocks start now
        await consumer.refetch_dropped_heads()
        assert sought == [(RAW, 10)]
        consumer._acked[RAW] = [10, 11, 12]
        await consumer.refetch_dropped_heads()
        assert sought == [(RAW, 10)]  # the head came back: nothing more
        consumer._acked[RAW] = [11, 12]
        worker.consumer_generation_id = 6
        await consumer.refetch_dropped_heads()
        assert sought == [(RAW, 10)]  # missing again, but in a new generation: wait again
    finally:
        consumer._thread.thread_loop.close()
