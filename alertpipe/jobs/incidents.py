"""``alertpipe incidents list|show`` as one async job: the worker's changelog read from its
beginning to the end offsets it had when the read started (``read_committed``: the states of
committed transactions only), folded into the latest state per incident
(``processors.changelog``). No worker is asked: the changelog is what a worker recovering its
state would read, so the answer is what the workers hold as of their last commit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from alertpipe.jobs.rangereader import range_consumer, read_merged, topic_partitions
from alertpipe.jobs.ranges import OffsetRange, RangeError
from alertpipe.jobs.replay import Progress
from kafkaio.clients import KafkaTarget
from processors.changelog import IncidentTable

PROGRESS_EVERY = 1024  # records between progress updates


@dataclass(frozen=True)
class ChangelogRead:
    table: IncidentTable
    total: int  # records between the beginning and the end offsets (compaction leaves gaps)
    interrupted: bool = False


async def read_incidents(
    kafka: KafkaTarget,
    changelog: str,
    timeout: float = 15.0,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
) -> ChangelogRead:
    """The changelog's incident states; RangeError when the topic does not exist (no worker
    of that group ever ran, or another ALERTPIPE_WORKER_GROUP)."""
    table = IncidentTable()
    async with range_consumer(kafka, timeout) as consumer:
        try:
            tps = await topic_partitions(kafka, changelog, timeout)
        except RangeError:
            raise RangeError(
                f"no changelog {changelog}: has a worker of this group run "
                "(ALERTPIPE_WORKER_GROUP, ALERTPIPE_TOPIC_RAW)?"
            ) from None
        async with asyncio.timeout(timeout):
            low = await consumer.beginning_offsets(tps)
            high = await consumer.end_offsets(tps)
        ranges = [OffsetRange(tp.partition, low[tp], high[tp]) for tp in tps]
        total = sum(r.size for r in ranges)
        if progress is not None:
            progress.start(total)
        done = 0
        async for r in read_merged(consumer, changelog, ranges, stop=stop):
            table.feed(r.key, r.value, list(r.headers or ()), r.partition, r.offset)
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress.advance(PROGRESS_EVERY)
        if progress is not None:
            progress.advance(done % PROGRESS_EVERY)
    return ChangelogRead(table, total, stop is not None and stop.is_set())
