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

All of these fall on the side of processing a record twice, which stage 2 suppresses
(``replayed``).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Consumer, Transport
from faust.types import AppT


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
                await self.seek(tp, earliest[tp])
                self._committed_offset[tp] = earliest[tp]

    def _new_offset(self, tp: Any) -> int | None:
        committed = self._committed_offset[tp]  # the next offset to process (None: unknown)
        acked = self._acked[tp]
        if committed is not None and acked and min(acked) > committed:
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
