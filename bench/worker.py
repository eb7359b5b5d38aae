"""Worker throughput: one `alertpipe worker` draining a prefilled raw topic through both stages
(raw -> stage 1 -> repartition by incident key -> stage 2 with its RocksDB state ->
alerts.normalized, bad bodies -> dead letters), in each processing guarantee, next to two
ceilings of the same run: a bare aiokafka consume -> produce passthrough of the same records,
and bench.noop_app, a quixstreams app of the worker's shape (expand, the repartition hop, one
state write per record, to_topic) doing no alertpipe work, in the same guarantee.

Drained means: the group has committed every raw and every repartition offset. The rate is
raw records / (last change of the output topics - first output), so neither the start-up
nor the first commit counts; the worker's outputs are normalized + dead letters. Outputs are
read read_committed: under exactly-once they count once their transaction committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CoordinatorLoadInProgressError, GroupCoordinatorNotAvailableError
from aiokafka.structs import TopicPartition

from alertpipe.harness import Proc
from bench.figures import figure
from bench.stack import (
    GUARANTEES,
    BenchError,
    fresh_topics,
    start_noop_app,
    start_worker,
    worker_env,
)
from bench.stage1 import mixed_records, prefill
from kafkaio.clients import new_admin, new_consumer, new_producer
from kafkaio.topics import TopicSpec, ensure_topics
from kafkaio.worker_topics import internal_topics

COMMIT_CHECK_S = 0.5
MIN_RATE = 10_000  # records/s, both guarantees (the target)
MIN_RATIO = 0.3  # of the passthrough


@contextlib.asynccontextmanager
async def offset_clients(
    bootstrap: str,
) -> AsyncIterator[tuple[AIOKafkaAdminClient, AIOKafkaConsumer]]:
    """An admin client and a read_committed consumer, started, for ``end_offsets``."""
    admin = new_admin(bootstrap)
    consumer = new_consumer(bootstrap, isolation_level="read_committed")
    await admin.start()
    await consumer.start()
    try:
        yield admin, consumer
    finally:
        await admin.close()
        await consumer.stop()


async def end_offsets(
    admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, topics: list[str]
) -> dict[TopicPartition, int]:
    described = await admin.describe_topics(topics)
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    ends = await consumer.end_offsets(tps)
    return {tp: int(o) for tp, o in ends.items()}


def committed_all(
    ends: dict[TopicPartition, int],
    done: dict[TopicPartition, int],
    inputs: list[str],
    transactional: frozenset[str] = frozenset(),
) -> bool:
    """Whether every partition of ``inputs`` is committed up to its end. A partition that never
    had a record has nothing to commit (end 0, none committed). A topic written in Kafka
    transactions (the repartition topic under exactly-once) ends with a commit marker that
    takes an offset and is never consumed: there the end less one will do."""
    return all(
        done.get(tp, 0) >= end - (1 if tp.topic in transactional and end else 0)
        for tp, end in ends.items()
        if tp.topic in inputs
    )


async def wait_drained(
    bootstrap: str,
    group: str,
    inputs: list[str],
    outputs: list[str],
    timeout: float,
    transactional: frozenset[str] = frozenset(),
) -> dict[str, float]:
    """Poll every 50 ms until ``group`` committed the end of every ``inputs`` partition and
    nothing moved for COMMIT_CHECK_S; returns the monotonic times of the first output and of
    the last change of the outputs, and how far the outputs' end offsets moved, both counted
    from what the outputs held when called (none yet: the first output is the last change).
    Under exactly-once that count includes the transactions' commit markers (an offset each),
    so it is not a number of records."""
    first = last = None
    seen: tuple[int, ...] = ()
    async with offset_clients(bootstrap) as (admin, consumer):
        # outputs an earlier run left in the same topics (the other guarantee's worker): not ours
        baseline = sum(o for tp, o in (await end_offsets(admin, consumer, outputs)).items())
        checked = 0.0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ends = await end_offsets(admin, consumer, [*outputs, *inputs])
            now = time.monotonic()
            state = tuple(o for _, o in sorted(ends.items()))
            out_total = sum(o for tp, o in ends.items() if tp.topic in outputs) - baseline
            if out_total and first is None:
                first = now
            if state != seen:
                seen, last = state, now
            if now - checked > COMMIT_CHECK_S:
                checked = now
                try:
                    committed = await admin.list_consumer_group_offsets(group)
                except (GroupCoordinatorNotAvailableError, CoordinatorLoadInProgressError):
                    committed = {}  # a fresh broker: the offsets topic is still being made
                done = {tp: meta.offset for tp, meta in committed.items()}
                settled = last is not None and now - last >= COMMIT_CHECK_S
                if settled and committed_all(ends, done, inputs, transactional):
                    assert last is not None
                    return {"first": first or last, "last": last, "outputs": float(out_total)}
            await asyncio.sleep(0.05)
    raise BenchError(f"the worker did not drain {inputs} within {timeout:.0f}s")


async def passthrough(bootstrap: str, source: str, target: str, expected: int) -> float:
    """Ceiling: consume ``source`` and produce each record to ``target`` (acks=all,
    idempotent, the worker's batch size), awaiting each batch's acks; records/s from the
    first record read."""
    consumer = new_consumer(
        bootstrap,
        source,
        isolation_level="read_committed",
        group_id=None,
        auto_offset_reset="earliest",
        max_poll_records=500,
    )
    producer = new_producer(
        bootstrap,
        acks="all",
        linger_ms=1,
        max_batch_size=512 * 1024,
        enable_idempotence=True,
    )
    await consumer.start()
    await producer.start()
    done = 0
    started = None
    try:
        async with asyncio.timeout(300):
            while done < expected:
                batch = await consumer.getmany(timeout_ms=200, max_records=500)
                futures = []
                for records in batch.values():
                    for r in records:
                        started = started or time.monotonic()
                        futures.append(
                            await producer.send(
                                target, value=r.value, key=r.key, headers=list(r.headers)
                            )
                        )
                await asyncio.gather(*futures)
                done += len(futures)
        return done / (time.monotonic() - (started or time.monotonic()))
    finally:
        await consumer.stop()
        await producer.stop()


def drained_run(
    bootstrap: str,
    topics: Any,
    records: int,
    proc: Proc,
    group: str,
    outputs: list[str],
    started: float,
    exactly_once: bool,
) -> dict[str, float]:
    """Wait until ``proc`` (a worker or the no-work app of ``group``) drained the raw topic and
    its repartition topic; stop it; its rate over the outputs' first to last change."""
    internal = internal_topics(group, topics.raw)
    try:
        times = asyncio.run(
            wait_drained(
                bootstrap,
                group,
                [topics.raw, internal.repartition],
                outputs,
                timeout=120 + records / 200,
                transactional=frozenset([internal.repartition] if exactly_once else []),
            )
        )
        proc.check_alive()
    finally:
        proc.stop()
    drain = times["last"] - times["first"]
    return {
        "records_per_s": records / drain,
        "drain_s": round(drain, 2),
        "startup_s": round(times["first"] - started, 2),
        "outputs": times["outputs"],
    }


def worker_run(
    bootstrap: str, topics: Any, records: int, logs: Path, data_dir: Path, guarantee: str
) -> dict[str, float]:
    env = worker_env(bootstrap, topics, data_dir, guarantee=guarantee)
    started = time.monotonic()
    proc = start_worker(f"worker-{guarantee}-{topics.raw}", env, logs)
    outputs = [topics.normalized, topics.dead_letter]
    return drained_run(
        bootstrap,
        topics,
        records,
        proc,
        env["ALERTPIPE_WORKER_GROUP"],
        outputs,
        started,
        guarantee == GUARANTEES[0],
    )


def noop_run(
    bootstrap: str, topics: Any, records: int, logs: Path, data_dir: Path, guarantee: str
) -> dict[str, float]:
    """The same records through bench.noop_app (the worker's shape, no alertpipe work)."""
    env = worker_env(bootstrap, topics, data_dir, guarantee=guarantee)
    out = f"{topics.normalized}.noop-{guarantee}"
    asyncio.run(ensure_topics(bootstrap, [TopicSpec(out, topics.partitions, 1)]))
    started = time.monotonic()
    proc = start_noop_app(f"noop-{guarantee}-{topics.raw}", env, logs, "--out", out)
    return drained_run(
        bootstrap,
        topics,
        records,
        proc,
        env["ALERTPIPE_WORKER_GROUP"],
        [out],
        started,
        guarantee == GUARANTEES[0],
    )


def measure_worker(
    bootstrap: str, records: int, partitions: int, repeat: int, logs: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per repetition, on fresh topics: the passthrough once, then for each guarantee the
    no-work app and the worker over the same prefilled records (each with its own group)."""
    data = mixed_records(records)
    ceilings: list[float] = []
    runs: dict[str, list[dict[str, float]]] = {g: [] for g in GUARANTEES}
    noops: dict[str, list[dict[str, float]]] = {g: [] for g in GUARANTEES}
    for n in range(repeat):
        topics = fresh_topics(bootstrap, partitions)
        asyncio.run(prefill(bootstrap, topics.raw, data))
        target = f"{topics.normalized}.passthrough"
        asyncio.run(ensure_topics(bootstrap, [TopicSpec(target, partitions, 1)]))
        ceilings.append(asyncio.run(passthrough(bootstrap, topics.raw, target, records)))
        for g in GUARANTEES:
            noops[g].append(noop_run(bootstrap, topics, records, logs, logs / f"noop-{g}-{n}", g))
            runs[g].append(worker_run(bootstrap, topics, records, logs, logs / f"wd-{g}-{n}", g))
    note = f"{records} raw records, {partitions} partitions, one process"
    figures = []
    for g in GUARANTEES:
        rates = [r["records_per_s"] for r in runs[g]]
        noop_rates = [r["records_per_s"] for r in noops[g]]
        figures += [
            figure(
                "worker",
                f"raw records through both stages, {g}",
                "records/s",
                rates,
                ceiling_name="aiokafka passthrough",
                ceiling_runs=ceilings,
                min_ratio=MIN_RATIO,
                min_value=MIN_RATE,
                note=note,
            ),
            figure(
                "worker",
                f"the same, vs the no-work quixstreams app, {g}",
                "records/s",
                rates,
                ceiling_name="no-work app of the same shape",
                ceiling_runs=noop_rates,
                note=note,
            ),
            figure(
                "worker",
                f"no-work quixstreams app, {g}",
                "records/s",
                noop_rates,
                ceiling_name="aiokafka passthrough",
                ceiling_runs=ceilings,
                note=note,
            ),
        ]
    details = {"worker_runs": runs, "worker_noop_runs": noops, "worker_ceilings": ceilings}
    return figures, details
