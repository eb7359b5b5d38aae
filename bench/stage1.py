"""Stage 1 figures: validation and pipeline µs per body per source (in-process), and one
worker process draining a prefilled raw topic next to a bare aiokafka passthrough (ceiling).

    python -m bench.stage1 --records 50000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from pathlib import Path
from typing import Any

import jsonschema
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from alertpipe.localkafka import LocalBroker
from alertpipe.settings import TopicSettings, kafka_env, prefixed_topics
from alertpipe.topics import TopicSpec, ensure_topics, topic_specs
from processors.parse import parse_body
from processors.pipeline import RawInput, process_raw
from processors.validate import validate
from schemas.raw import RawHeaders, raw_record_key
from schemas.registry import load_sources

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"
FORM = "application/x-www-form-urlencoded"


def samples() -> list[tuple[str, str, bytes, str]]:
    out = []
    for source in sorted(load_sources()):
        for path in sorted((FIXTURES / source).glob("*")):
            if path.suffix in (".json", ".form"):
                ctype = FORM if path.suffix == ".form" else "application/json"
                out.append((source, path.name, path.read_bytes(), ctype))
    return out


def headers_for(source: str, ctype: str, n: int) -> list[tuple[str, bytes]]:
    return RawHeaders(
        source=source,
        org="bench",
        key_id="kbench",
        routing_key=f"rk{n % 8}",
        content_type=ctype,
        received_at=int(time.time() * 1000),
        request_id=f"r{n}",
        remote_addr="127.0.0.1",
        user_agent="bench",
        entity_id=f"e{n}" if source == "generic" else None,
    ).to_kafka()


def micro(repeat: int = 5, number: int = 20_000) -> list[dict[str, Any]]:
    rows = []
    for source, name, body, ctype in samples():
        data = parse_body(body, ctype)
        oracle = jsonschema.Draft202012Validator(load_sources()[source].schema)
        raw = RawInput(body, headers_for(source, ctype, 1), "alerts.raw", 0, 1)

        def per_call(fn: Any, n: int) -> float:
            return min(timeit.repeat(fn, number=n, repeat=repeat)) / n * 1e6

        # The lambdas run inside this iteration (timeit calls them at once): binding is safe.

        rows.append(
            {
                "source": source,
                "body": name,
                "bytes": len(body),
                "validate_us": round(per_call(lambda: validate(source, data), number), 2),  # noqa: B023
                "jsonschema_us": round(per_call(lambda: list(oracle.iter_errors(data)), 500), 1),  # noqa: B023
                "pipeline_us": round(per_call(lambda: process_raw(raw, {}), number // 4), 1),  # noqa: B023
            }
        )
    return rows


def mixed_records(count: int, seed: int = 7) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """Fixture bodies of every source; 20% exact repeats of an earlier body, 1% invalid."""
    rng = random.Random(seed)
    pool = samples()
    records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.01:
            source, body, ctype = (
                "thousandeyes",
                b'{"eventType": "ALERT_NOTIFICATION_TR',
                ("application/json"),
            )
        elif roll < 0.21 and records:
            records.append(records[rng.randrange(len(records))])
            continue
        else:
            source, _, body, ctype = rng.choice(pool)
        routing = f"rk{n % 8}"
        records.append((raw_record_key("bench", routing), body, headers_for(source, ctype, n)))
    return records


async def prefill(bootstrap: str, topic: str, records: list[Any]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=512 * 1024,
        enable_idempotence=True,
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k, headers=h) for k, v, h in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def end_total(
    admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, topics: list[str]
) -> int:
    described = await admin.describe_topics(topics)
    tps = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    ends = await consumer.end_offsets(tps)
    return int(sum(ends.values()))


async def wait_for_outputs(
    bootstrap: str, topics: list[str], expected: int, timeout: float
) -> tuple[float, float]:
    """(time of the first output, time all outputs were there), by polling end offsets."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    first = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            total = await end_total(admin, consumer, topics)
            now = time.monotonic()
            if total and first is None:
                first = now
            if total >= expected:
                assert first is not None
                return first, now
            await asyncio.sleep(0.05)
    finally:
        await admin.close()
        await consumer.stop()
    raise SystemExit(f"outputs incomplete after {timeout}s")


async def passthrough(bootstrap: str, source: str, target: str, expected: int) -> float:
    """Ceiling: consume raw and produce each record to ``target`` (acks=all), same batching."""
    consumer = AIOKafkaConsumer(
        source,
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


def worker_run(bootstrap: str, topics: TopicSettings, expected: int) -> dict[str, float]:
    env = {
        **os.environ,
        **kafka_env(bootstrap, topics),
        "ALERTPIPE_WORKER_GROUP": f"bench-{uuid.uuid4().hex[:8]}",
        "ALERTPIPE_WORKER_METRICS_PORT": "0",
        "ALERTPIPE_WORKER_DATA_DIR": tempfile.mkdtemp(prefix="bench-worker-"),
    }
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "alertpipe.cli", "worker", "--loglevel", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        first, last = asyncio.run(
            wait_for_outputs(
                bootstrap, [topics.normalized, topics.dead_letter], expected, timeout=600
            )
        )
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {
        "records_per_s": expected / (last - first),
        "drain_s": last - first,
        "startup_s": first - started,
    }


def fresh(bootstrap: str, partitions: int) -> TopicSettings:
    topics = prefixed_topics(f"bench.{uuid.uuid4().hex[:8]}", partitions=partitions)
    asyncio.run(ensure_topics(bootstrap, topic_specs(topics)))
    return topics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(
        "| source | body | bytes | validate µs (jsonschema-rs) | jsonschema µs | "
        "whole pure pipeline µs |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for row in micro():
        print(
            f"| {row['source']} | {row['body']} | {row['bytes']} | {row['validate_us']} | "
            f"{row['jsonschema_us']} | {row['pipeline_us']} |"
        )

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or LocalBroker().start().bootstrap_servers
    assert bootstrap
    records = mixed_records(args.records)
    workers, ceilings = [], []
    for _ in range(args.repeat):
        topics = fresh(bootstrap, args.partitions)
        asyncio.run(prefill(bootstrap, topics.raw, records))
        target = f"{topics.normalized}.passthrough"
        asyncio.run(ensure_topics(bootstrap, [TopicSpec(target, args.partitions, 1)]))
        ceilings.append(asyncio.run(passthrough(bootstrap, topics.raw, target, args.records)))
        workers.append(worker_run(bootstrap, topics, args.records))
    rates = [w["records_per_s"] for w in workers]
    print(
        f"\nworker, one process, {args.records} raw records (mixed sources, ~20% repeats, "
        f"~1% invalid), {args.partitions} partitions, {args.repeat} runs, {os.cpu_count()} cores"
    )
    print("| figure | median | min | max |")
    print("| --- | --- | --- | --- |")
    print(
        f"| worker records/s | {statistics.median(rates):.0f} | {min(rates):.0f} | "
        f"{max(rates):.0f} |"
    )
    print(
        f"| passthrough ceiling records/s | {statistics.median(ceilings):.0f} | "
        f"{min(ceilings):.0f} | {max(ceilings):.0f} |"
    )
    print(
        f"| worker start-up to first output, s | "
        f"{statistics.median(w['startup_s'] for w in workers):.1f} | | |"
    )
    print(f"ratio worker/ceiling: {statistics.median(rates) / statistics.median(ceilings):.2f}")
    print(json.dumps({"workers": workers, "ceilings": ceilings}))


if __name__ == "__main__":
    main()
