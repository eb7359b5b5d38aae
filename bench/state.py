"""State figures: a worker's memory with N incidents in its table, and the time it takes a
worker with an empty data dir to restore them from the changelog.

The table is filled fast by writing N incident states (an open CRITICAL incident with one
fingerprint and one applied raw position, encoded as stage 2 encodes them) straight to the
table's compacted changelog, partitioned as faust partitions them (aiokafka's murmur2, by key).
Then, ``repeat`` times, a worker with an empty data dir restores them: the restore rate is timed
from faust's "Restoring state" log line to its "Worker ready" line (polled every 50 ms), next
to a bare aiokafka consumer reading the same changelog (the ceiling); start-to-ready includes
the process start. Memory is the worker's RSS once its /metrics counts all N keys.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from alertpipe.ports import free_port
from alertpipe.settings import TopicSettings
from alertpipe.topics import TopicSpec, ensure_topics
from bench.figures import figure
from bench.stack import BenchError, Proc, fresh_topics, start_worker, wait_for_log, worker_env
from processors.incidents import IncidentState, encode_state

TABLE = (
    "incidents"  # processors.app's table name; faust names its changelog <group>-<table>-changelog
)
TABLE_KEYS = re.compile(r"^alertpipe_worker_incident_table_keys (\S+)$", re.M)


def changelog_topic(group: str) -> str:
    return f"{group}-{TABLE}-changelog"


def incident_state(n: int, now_ms: int) -> tuple[bytes, bytes]:
    """The table record of the n-th incident: key ``org/entity``, the state stage 2 writes."""
    state = IncidentState(
        status="open",
        severity="CRITICAL",
        last_transition=now_ms - 60_000,
        first_seen=now_ms - 60_000,
        last_seen=now_ms,
        events=1,
        suppressed=0,
        fingerprints=(f"event:bench-{n}",),
        applied=((f"bench.raw/{n % 6}", n, 0),),
    )
    return f"bench/state-{n:07d}".encode(), encode_state(state)


async def fill_changelog(bootstrap: str, topic: str, count: int) -> float:
    """Write ``count`` states; returns the seconds it took."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=512 * 1024
    )
    await producer.start()
    now_ms = int(time.time() * 1000)
    started = time.perf_counter()
    try:
        futures = []
        for n in range(count):
            key, value = incident_state(n, now_ms)
            futures.append(await producer.send(topic, value=value, key=key))
            if len(futures) >= 20_000:
                await asyncio.gather(*futures)
                futures = []
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def bare_read(bootstrap: str, topic: str, count: int) -> float:
    """Ceiling: records/s of a plain consumer reading the whole changelog from the start."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
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


def table_keys(port: int) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            found = TABLE_KEYS.search(answer.read().decode())
    except OSError:
        return None
    return float(found.group(1)) if found else None


def wait_for_keys(proc: Proc, port: int, count: int, timeout: float) -> None:
    """Until the worker's sampled table size (every 10 s) shows all ``count`` keys."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check_alive()
        if (table_keys(port) or 0) >= count:
            return
        time.sleep(0.5)
    raise BenchError(f"the worker's table did not reach {count} keys in {timeout:.0f}s")


def recovery_run(
    bootstrap: str, topics: TopicSettings, group: str, count: int, logs: Path, n: int
) -> dict[str, float]:
    port = free_port()
    env = worker_env(bootstrap, topics, logs / f"state-data-{n}", metrics_port=port)
    env["ALERTPIPE_WORKER_GROUP"] = group
    started = time.monotonic()
    proc = start_worker(f"state-worker-{n}", env, logs)
    timeout = 120 + count / 2_000
    try:
        restoring = wait_for_log(proc, "Restoring state from changelog topics", timeout=timeout)
        ready = wait_for_log(proc, "Worker ready", timeout=timeout)
        wait_for_keys(proc, port, count, timeout=120)
        rss = proc.rss_mib()
    finally:
        proc.stop()
    return {
        "start_to_ready_s": ready - started,
        "restore_s": ready - restoring,
        "restore_records_per_s": count / max(ready - restoring, 1e-3),
        "rss_mib": rss,
    }


def measure_state(
    bootstrap: str, count: int, repeat: int, partitions: int, logs: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    topics = fresh_topics(bootstrap, partitions)
    group = f"bench-state-{uuid.uuid4().hex[:8]}"
    topic = changelog_topic(group)
    spec = TopicSpec(topic, partitions, 1, {"cleanup.policy": "compact"})
    asyncio.run(ensure_topics(bootstrap, [spec]))
    fill_s = asyncio.run(fill_changelog(bootstrap, topic, count))
    runs, ceilings = [], []
    for n in range(repeat):
        ceilings.append(asyncio.run(bare_read(bootstrap, topic, count)))
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
    return figures, {"state_runs": runs, "state_fill_s": fill_s, "state_ceilings": ceilings}
