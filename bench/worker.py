"""Worker throughput: one `alertpipe worker` draining a prefilled raw topic through both stages
(raw -> stage 1 -> incident table -> alerts.normalized, bad bodies -> dead letters), next to
the same run's ceiling, a bare aiokafka consume -> produce passthrough of the same records.

Drained means: the worker's group has committed every raw and every stage-1 offset. The rate
is raw records / (last change of the output topics - first output), so neither the worker's
start-up nor faust's commit interval (~3 s) counts; outputs are normalized + dead letters.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from alertpipe.topics import TopicSpec, ensure_topics
from bench.figures import figure
from bench.stack import BenchError, fresh_topics, start_worker, worker_env
from bench.stage1 import mixed_records, prefill

COMMIT_CHECK_S = 0.5


async def end_offsets(
    admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, topics: list[str]
) -> dict[TopicPartition, int]:
    described = await admin.describe_topics(topics)
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    ends = await consumer.end_offsets(tps)
    return {tp: int(o) for tp, o in ends.items()}


async def wait_drained(
    bootstrap: str, group: str, inputs: list[str], outputs: list[str], timeout: float
) -> dict[str, float]:
    """Poll every 50 ms until ``group`` committed the end of every ``inputs`` partition;
    returns the monotonic times of the first output and of the last change of the outputs,
    and the number of output records."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(isolation_level="read_committed", bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    first = last = None
    seen: tuple[int, ...] = ()
    checked = 0.0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ends = await end_offsets(admin, consumer, [*outputs, *inputs])
            now = time.monotonic()
            state = tuple(o for _, o in sorted(ends.items()))
            out_total = sum(o for tp, o in ends.items() if tp.topic in outputs)
            if out_total and first is None:
                first = now
            if state != seen:
                seen, last = state, now
            if first is not None and now - checked > COMMIT_CHECK_S:
                checked = now
                committed = await admin.list_consumer_group_offsets(group)
                done = {tp: meta.offset for tp, meta in committed.items()}
                # a partition that never had a record has nothing to commit: end 0, none
                if all(done.get(tp, 0) >= o for tp, o in ends.items() if tp.topic in inputs):
                    assert last is not None
                    return {"first": first, "last": last, "outputs": float(out_total)}
            await asyncio.sleep(0.05)
    finally:
        await admin.close()
        await consumer.stop()
    raise BenchError(f"the worker did not drain {inputs} within {timeout:.0f}s")


async def passthrough(bootstrap: str, source: str, target: str, expected: int) -> float:
    """Ceiling: consume ``source`` and produce each record to ``target`` (acks=all,
    idempotent, the worker's batch size), awaiting each batch's acks; records/s from the
    first record read."""
    consumer = AIOKafkaConsumer(
        source,
        isolation_level="read_committed",
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        max_poll_records=500,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
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


def worker_run(
    bootstrap: str, topics: Any, records: int, logs: Path, data_dir: Path
) -> dict[str, float]:
    env = worker_env(bootstrap, topics, data_dir)
    started = time.monotonic()
    proc = start_worker(f"worker-{topics.raw}", env, logs)
    try:
        times = asyncio.run(
            wait_drained(
                bootstrap,
                env["ALERTPIPE_WORKER_GROUP"],
                [topics.raw, topics.stage1],
                [topics.normalized, topics.dead_letter],
                timeout=120 + records / 200,
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


def measure_worker(
    bootstrap: str, records: int, partitions: int, repeat: int, logs: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Worker records/s vs the passthrough, ``repeat`` times on fresh topics each; returns the
    figures and the per-run details."""
    data = mixed_records(records)
    runs, ceilings = [], []
    for n in range(repeat):
        topics = fresh_topics(bootstrap, partitions)
        asyncio.run(prefill(bootstrap, topics.raw, data))
        target = f"{topics.normalized}.passthrough"
        asyncio.run(ensure_topics(bootstrap, [TopicSpec(target, partitions, 1)]))
        ceilings.append(asyncio.run(passthrough(bootstrap, topics.raw, target, records)))
        runs.append(worker_run(bootstrap, topics, records, logs, logs / f"worker-data-{n}"))
    figures = [
        figure(
            "worker",
            "raw records through both stages",
            "records/s",
            [r["records_per_s"] for r in runs],
            ceiling_name="aiokafka passthrough",
            ceiling_runs=ceilings,
            min_ratio=0.5,
            min_value=10_000,
            note=f"{records} raw records, {partitions} partitions, one worker process",
        )
    ]
    details = {"worker_runs": runs, "worker_ceilings": ceilings}
    return figures, details
