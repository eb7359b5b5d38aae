"""The worker's consumer keeps no read offsets (so it drops no record fetched again after a
rebalance) and refuses acks of records fetched in an earlier consumer generation. The
end-to-end check is the two-worker fault tests (tests/faults/test_worker_faults.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faust.types import TP
from faust.types.tuples import Message

from processors.rebalance import NoReadOffsets, RebalanceSafeConsumer, WorkerApp, of_generation

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
