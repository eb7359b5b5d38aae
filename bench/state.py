"""State figures: the time a worker with an empty data dir takes to restore N incident states
from its changelog, and its memory with them.

The changelog is filled by the engine itself: N raw records, one per incident (key
``bench/state-<n>``), go through bench.noop_app ``--fill-state`` under the worker's own
consumer group and raw topic, which writes one open incident's state per key (encoded as
stage 2 encodes them, with the worker's TTL) to the very changelog the worker restores from,
``changelog__<group>--repartition.<raw>.incident--default``. Then, ``repeat`` times, a worker
of that group with an empty data dir starts (nothing is left to consume: the fill committed
every offset) and restores them. The restore rate is N over the time between quixstreams'
"Beginning recovery check" and "Recovery process complete" log lines (their own timestamps),
next to a bare aiokafka consumer reading the same changelog read_committed (the ceiling);
start to ready runs from the process start to its ``worker ready`` line; RSS is taken then.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

from alertpipe.harness import WORKER_READY
from bench.figures import figure
from bench.stack import (
    GUARANTEES,
    BenchError,
    fresh_topics,
    log_time,
    start_noop_app,
    start_worker,
    wait_for_log,
    worker_env,
)
from bench.stage1 import prefill
from bench.worker import end_offsets, offset_clients, wait_drained
from kafkaio.clients import new_consumer
from kafkaio.settings import TopicSettings
from kafkaio.worker_topics import internal_topics

RECOVERY_STARTS = "Beginning recovery check"
RECOVERY_ENDS = "Recovery process complete"
RECOVERED = "Recovery successful for"  # one line per changelog partition restored
MIN_RESTORE_RATE = 50_000  # records/s (the target)


def incident_records(count: int) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """One raw record per incident; the fill app keys its state by the record key."""
    return [(f"bench/state-{n:07d}".encode(), b"state-%d" % n, []) for n in range(count)]


def fill_changelog(
    bootstrap: str, topics: TopicSettings, group: str, count: int, logs: Path
) -> dict[str, float]:
    """Prefill the raw topic and let bench.noop_app write the states; seconds of each."""
    started = time.perf_counter()
    asyncio.run(prefill(bootstrap, topics.raw, incident_records(count)))
    prefilled = time.perf_counter()
    env = worker_env(bootstrap, topics, logs / "state-fill")
    env["ALERTPIPE_WORKER_GROUP"] = group
    internal = internal_topics(group, topics.raw)
    proc = start_noop_app("state-fill", env, logs, "--fill-state")
    try:
        asyncio.run(
            wait_drained(
                bootstrap,
                group,
                [topics.raw, internal.repartition],
                [internal.changelog],
                timeout=120 + count / 2_000,
                transactional=frozenset([internal.repartition]),  # the default guarantee
            )
        )
        proc.check_alive()
    finally:
        proc.stop()
    held = asyncio.run(record_count(bootstrap, internal.changelog))
    if held < count:  # the fill wrote somewhere the worker would not restore from
        raise BenchError(f"{internal.changelog} holds {held} records, not {count}")
    return {
        "prefill_s": round(prefilled - started, 1),
        "fill_s": round(time.perf_counter() - prefilled, 1),
    }


async def record_count(bootstrap: str, topic: str) -> int:
    """End offsets summed (read_committed: commit markers included, so at least the count)."""
    async with offset_clients(bootstrap) as (admin, consumer):
        return sum((await end_offsets(admin, consumer, [topic])).values())


async def bare_read(bootstrap: str, topic: str, count: int) -> float:
    """Ceiling: records/s of a plain consumer reading the whole changelog from the start."""
    consumer = new_consumer(
        bootstrap,
        topic,
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    seen = 0
    started = None
    try:
        async with asyncio.timeout(600):
            while seen < count:
                batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
                started = started or time.perf_counter()
                seen += sum(len(records) for records in batch.values())
    finally:
        await consumer.stop()
    return count / (time.perf_counter() - (started or time.perf_counter()))


def recovery_run(
    bootstrap: str, topics: TopicSettings, group: str, count: int, logs: Path, n: int
) -> dict[str, float]:
    env = worker_env(bootstrap, topics, logs / f"state-data-{n}", guarantee=GUARANTEES[0])
    env["ALERTPIPE_WORKER_GROUP"] = group
    started = time.time()
    proc = start_worker(f"state-worker-{n}", env, logs)
    try:
        wait_for_log(proc, RECOVERY_ENDS, WORKER_READY, timeout=120 + count / 2_000)
        rss = proc.rss_mib()
    finally:
        proc.stop()
    begins, ends, ready = (
        log_time(proc, s) for s in (RECOVERY_STARTS, RECOVERY_ENDS, WORKER_READY)
    )
    if begins is None or ends is None or ready is None:
        raise BenchError(f"{proc.name}: no recovery or ready line with a time:\n{proc.tail()}")
    changelog = internal_topics(group, topics.raw).changelog
    recovered = proc.tail(10**9).count(f'{RECOVERED} <RecoveryPartition \\"{changelog}[')
    if recovered != topics.partitions:
        raise BenchError(f"{proc.name} restored {recovered} of {topics.partitions} partitions")
    return {
        "start_to_ready_s": ready - started,
        "restore_s": ends - begins,
        "restore_records_per_s": count / max(ends - begins, 1e-3),
        "rss_mib": rss,
        "partitions_recovered": recovered,
    }


def measure_state(
    bootstrap: str, count: int, repeat: int, partitions: int, logs: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    topics = fresh_topics(bootstrap, partitions)
    group = f"bench-state-{uuid.uuid4().hex[:8]}"
    changelog = internal_topics(group, topics.raw).changelog
    fill = fill_changelog(bootstrap, topics, group, count, logs)
    runs, ceilings = [], []
    for n in range(repeat):
        ceilings.append(asyncio.run(bare_read(bootstrap, changelog, count)))
        runs.append(recovery_run(bootstrap, topics, group, count, logs, n))
    note = f"{count:,} incidents, {partitions} partitions, empty data dir each time"
    figures = [
        figure(
            "state",
            "changelog restore into RocksDB",
            "records/s",
            [r["restore_records_per_s"] for r in runs],
            ceiling_name="bare aiokafka read of the changelog",
            ceiling_runs=ceilings,
            min_value=MIN_RESTORE_RATE,
            note=note,
        ),
        figure(
            "state",
            f"worker start to ready with {count:,} incidents",
            "s",
            [r["start_to_ready_s"] for r in runs],
            better="lower",
            note=note,
        ),
        figure(
            "state",
            f"worker RSS with {count:,} incidents",
            "MiB",
            [r["rss_mib"] for r in runs],
            better="lower",
            note=note,
        ),
    ]
    return figures, {"state_runs": runs, "state_fill": fill, "state_ceilings": ceilings}
