"""The worker's faust consumer, with two of faust-streaming 0.15's rebalance hazards removed.

Both were found by the worker-fault tests (``tests/faults/test_worker_faults.py``), which lost
hundreds of alerts in some runs with two workers. After a rebalance, faust seeks each partition
back to its committed offset and fetches again what it had already fetched but not processed.

1. **Re-fetched records were dropped.** faust's drain loop remembers the last offset it read
   per partition and silently drops a record below it ("DROPPED MESSAGE ROFF" in its dev log).
   That remembered offset could still be the one from before the rebalance, so every record
   between the committed offset and it was dropped without being processed, and the offsets
   after them were committed: the records were lost. ``NoReadOffsets`` keeps no read offset, so
   nothing is dropped; faust's gap tracking, which uses the same map, then stays off too. It
   exists for offsets that never reach a consumer (compaction, transaction markers), which the
   topics a worker consumes do not have (idempotent producers, delete retention).
2. **Records were acknowledged without being processed, or with no committed offset to
   compare.** A record fetched before a rebalance and reaching its stream during or after it is
   skipped, and faust acknowledges it all the same; and a batch finishing during a rebalance is
   acknowledged while faust has forgotten the partition's committed offset. Either way offsets
   were committed past records no one processed (raw records lost before stage 1 in a
   two-worker run). ``ack`` refuses records of an earlier consumer generation, and any record
   while the flow is suspended (from revocation until the seek to the committed offsets) or the
   worker stops: each refused record is fetched again after the seek and processed then.

3. **Events buffered before a rebalance were processed after it.** ``take_events`` keeps its
   buffer across a rebalance, so a batch could hold events of a partition that had moved to
   another worker: stage 2 decided them against a table it no longer kept up to date and wrote
   states into the new owner's changelog partition, which the owner could then recover (one
   alert lost and one emitted that should not have been, in a two-worker run). The agents
   keep only the events of the current generation (``of_generation``); a batch during which
   a rebalance or the stop began writes no state (``settled``, used by ``processors.app``).

4. **A partition without a committed offset was not sought at all.** A rebalance before the
   group's first commit left such partitions where the fetcher was, past the records whose
   acks were refused, and they were never processed (thousands lost in the frozen-worker test,
   whose second worker joins seconds after the first starts). ``perform_seek`` starts them
   from their first offset.
5. **A commit could pass over one unprocessed record.** faust commits the first run of
   acknowledged offsets unless it starts more than one past the committed offset, so the
   record at the committed offset itself could be skipped while unacknowledged.
   ``_new_offset`` waits until that record is acknowledged.

6. **A dropped record was never fetched again.** faust abandons handing a record to its
   stream when a rebalance suspends the flow meanwhile, and counts on the rebalance's seek to
   fetch it again; a record dropped after that seek is fetched by nothing. With 5. its
   partition's commits then stop at it for good (a stage-1 partition committed 3,953 of 8,181
   until the full-size join-and-leave test gave up; 2 alerts lost). ``HeadWatch`` notices a
   partition whose next record to commit stays unacknowledged while later ones are
   acknowledged, and the consumer seeks that partition back to its committed offset.

All of these fall on the side of processing a record twice, which stage 2 suppresses
(``replayed``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Consumer, Transport
from faust.types import AppT
from mode import Service

# How long a partition's next record to commit may stay unacknowledged while later records of
# it are acknowledged before it is fetched again. In-order processing acknowledges it first
# within a batch, so anything past a few batches means it was dropped.
REFETCH_AFTER_S = 10.0


def of_generation(events: Sequence[Any], generation: int) -> list[Any]:
    """The events fetched in consumer generation ``generation`` (the others are fetched again
    by whoever owns their partition now)."""
    return [e for e in events if e.message.generation_id == generation]


def flowing(app: AppT) -> bool:
    """Neither a rebalance (flow suspended until the seek) nor the stop is under way."""
    return bool(app.flow_control.is_active()) and not app.should_stop


def settled(app: AppT, generation: int) -> bool:
    """No rebalance or stop has begun since ``generation``: a batch may write its states."""
    return app.consumer_generation_id == generation and flowing(app)


def head_missing(committed: int | None, acked: Sequence[int]) -> bool:
    """Records past the committed offset (the next record to commit, the head) are
    acknowledged but the head is not."""
    return committed is not None and bool(acked) and min(acked) > committed


class HeadWatch:
    """Which partitions have had their head missing (``head_missing``) for ``after_s``."""

    def __init__(self, after_s: float) -> None:
        self.after_s = after_s
        self._since: dict[Any, float] = {}

    def reset(self) -> None:
        self._since.clear()

    def overdue(self, missing: Mapping[Any, bool], now: float) -> list[Any]:
        """``missing``: per partition, whether its head is missing now. Returns those missing
        it for ``after_s`` or more; their clocks start again."""
        self._since = {tp: t for tp, t in self._since.items() if missing.get(tp)}
        due = []
        for tp, gone in missing.items():
            if not gone:
                continue
            since = self._since.setdefault(tp, now)
            if now - since >= self.after_s:
                due.append(tp)
                self._since[tp] = now
        return due


class NoReadOffsets(MutableMapping[Any, int | None]):
    """A read-offset map that keeps nothing: every offset is unknown (None)."""

    def __getitem__(self, tp: Any) -> int | None:
        return None

    def __setitem__(self, tp: Any, offset: int | None) -> None:
        return None

    def __delitem__(self, tp: Any) -> None:
        return None

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0


class RebalanceSafeConsumer(Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = NoReadOffsets()
        self._heads = HeadWatch(REFETCH_AFTER_S)
        self._heads_generation = -1

    def ack(self, message: Any) -> bool:
        generation = message.generation_id
        stale = generation is not None and generation != self.app.consumer_generation_id
        if stale or not flowing(self.app):
            message.acked = True  # done with this copy; the one fetched again gets committed
            self._unacked_messages.discard(message)
            return False
        return bool(super().ack(message))

    async def perform_seek(self) -> None:
        """faust seeks each partition to its committed offset, and aiokafka skips the seek when
        a partition has none yet (a new group, or a rebalance before its first commit), so
        records refused before the rebalance were never fetched again. Such partitions start
        from their first offset, and that offset is what commits are checked against."""
        await super().perform_seek()
        unknown = [
            tp
            for tp in self.assignment()
            if self.app.topics.acks_enabled_for(tp.topic) and self._committed_offset[tp] is None
        ]
        if unknown:
            earliest = await self.earliest_offsets(*unknown)
            for tp in unknown:
                await self.seek_in_thread(tp, earliest[tp])
                self._committed_offset[tp] = earliest[tp]

    @Service.timer(1.0)
    async def _head_watch(self) -> None:
        await self.refetch_dropped_heads()

    async def refetch_dropped_heads(self) -> None:
        """Seek a partition whose head record was dropped back to its committed offset."""
        generation = self.app.consumer_generation_id
        if generation != self._heads_generation or not (self.flow_active and flowing(self.app)):
            self._heads.reset()  # a rebalance seeks every partition anyway
            self._heads_generation = generation
            return
        missing = {
            tp: head_missing(self._committed_offset[tp], self._acked[tp])
            for tp in self.assignment()
            if self.app.topics.acks_enabled_for(tp.topic)
        }
        for tp in self._heads.overdue(missing, time.monotonic()):
            offset = self._committed_offset[tp]
            if offset is None:
                continue
            self.log.warning(
                "%s: offset %s unacknowledged for %.0fs while later ones are; fetching again",
                tp,
                offset,
                REFETCH_AFTER_S,
            )
            await self.seek_in_thread(tp, offset)

    async def seek_in_thread(self, tp: Any, offset: int) -> None:
        """Seek on the consumer's own thread. faust's ``seek`` calls aiokafka from the event
        loop's thread while the consumer thread fetches: a fetch then failed with a KeyError
        in aiokafka's fetcher and crashed the worker's fetcher (two-worker fault test)."""
        thread = self._thread
        await thread.call_thread(thread._ensure_consumer().seek, tp, offset)

    def _new_offset(self, tp: Any) -> int | None:
        # the committed offset is the next to process (None: unknown)
        if head_missing(self._committed_offset[tp], self._acked[tp]):
            return None  # the record at the committed offset is not acknowledged yet
        offset = super()._new_offset(tp)
        return None if offset is None else int(offset)


class RebalanceSafeTransport(Transport):
    """faust's aiokafka transport (``kafka://``) with ``RebalanceSafeConsumer``."""

    Consumer = RebalanceSafeConsumer


class WorkerApp(faust.App):
    """A faust app whose consumer is ``RebalanceSafeConsumer``."""

    def _new_transport(self) -> Transport:
        return RebalanceSafeTransport(self.conf.broker_consumer, self)
