"""Durable webhooks/s of one ingress process next to its ceilings, in one run.

Starts `alertpipe ingress` twice on free loopback ports, once writing to Kafka (acks=all, the
real thing) and once with --null-sink (same app, answers without Kafka). Each repetition drives
the same bounded load (every fixture body of every source, in turn) from a separate process
(bench.loadgen) at both, and then sends the same records with a bare aiokafka producer (the
ingress's producer settings, as many sends in flight as the load has connections, no HTTP).
Uses KAFKA_BOOTSTRAP_SERVERS or a broker of its own.

    python -m bench.ingress_ceiling --count 20000 --concurrency 64 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.figures import figure, latency_set
from bench.stack import (
    ORG,
    BenchError,
    fresh_topics,
    kafka,
    log_dir,
    service_urls,
    start_ingress,
)
from bench.stage1 import fixture_files, headers_for
from bench.table import figures_table, latency_table
from kafkaio.clients import new_producer
from kafkaio.settings import TopicSettings
from schemas.raw import raw_record_key
from schemas.registry import load_sources

MAX_REQUEST_SIZE = 1024 * 1024  # the ingress's: max body (512 KiB) plus headers, with room


def url_fixtures() -> list[tuple[str, Path, str]]:
    """The fixtures of the sources whose key is in the URL: the load generator posts the same
    bodies to every one (PagerDuty's keys travel in the body, so its bodies are left out; so
    are Amazon SNS's, whose signatures only SNS can make and whose keys name topics)."""
    sources = load_sources()
    return [
        f
        for f in fixture_files()
        if sources[f[0]].paths
        and not sources[f[0]].key_in_body
        and sources[f[0]].protocol != "amazon_sns"
    ]


def write_plan(urls: dict[str, str], port: int, path: Path) -> Path:
    """A loadgen plan: every fixture body of every source, on its service URL."""
    plan = [
        {
            "url": urls[source].replace("{port}", str(port)),
            "body_file": str(body),
            "content_type": c,
        }
        for source, body, c in url_fixtures()
    ]
    path.write_text(json.dumps(plan))
    return path


def load(plan: Path, count: int, concurrency: int, *extra: str) -> dict[str, Any]:
    """One bench.loadgen process; its JSON summary. Raises BenchError if it failed."""
    args = ["--plan", str(plan), "--count", str(count), "--concurrency", str(concurrency), *extra]
    out = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", *args], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise BenchError(f"bench.loadgen failed ({out.returncode}):\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def check_answers(result: dict[str, Any], what: str) -> None:
    bad = {s: n for s, n in result["statuses"].items() if not s.startswith("2")}
    if bad or result["connection_errors"] or result["answered"] != result["count"]:
        raise BenchError(
            f"{what}: {result['answered']} of {result['count']} answered, statuses "
            f"{result['statuses']}, errors {result['connection_errors']}"
        )


def producer_records(count: int) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """What the ingress writes for ``count`` requests of the plan (same bodies and headers)."""
    files = [(source, path.read_bytes(), ctype) for source, path, ctype in url_fixtures()]
    out = []
    for n in range(count):
        source, body, ctype = files[n % len(files)]
        out.append((raw_record_key(ORG, "bench"), body, headers_for(source, ctype, n)))
    return out


async def producer_ceiling(
    bootstrap: str, topic: str, records: list[Any], in_flight: int
) -> dict[str, float]:
    """Records/s of a bare aiokafka producer with the ingress's settings, ``in_flight`` sends
    awaited at a time (as many as the load's connections), no HTTP."""
    producer = new_producer(
        bootstrap,
        acks="all",
        enable_idempotence=True,
        max_request_size=MAX_REQUEST_SIZE,
        linger_ms=1,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    queue = iter(records)

    async def sender() -> None:
        for key, value, headers in queue:
            await (await producer.send(topic, value=value, key=key, headers=headers))

    try:
        await producer.partitions_for(topic)
        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(in_flight)))
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    return {"records_per_s": len(records) / elapsed, "elapsed_s": elapsed}


def measure_ingress(
    bootstrap: str, count: int, concurrency: int, repeat: int, logs: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(figures, latency sets, details) of ``repeat`` interleaved repetitions."""
    topics: TopicSettings = fresh_topics(bootstrap, 6)
    urls = service_urls(bootstrap, topics, sorted({s for s, _, _ in url_fixtures()}))
    durable = start_ingress("ingress-kafka", bootstrap, topics, logs)
    null = start_ingress("ingress-null", bootstrap, topics, logs, null_sink=True)
    records = producer_records(count)
    runs: dict[str, list[dict[str, Any]]] = {"kafka": [], "null": [], "producer": []}
    try:
        plans = {
            "kafka": write_plan(urls, durable.port, logs / "plan-kafka.json"),
            "null": write_plan(urls, null.port, logs / "plan-null.json"),
        }
        for mode, plan in plans.items():  # warm-up: connections, JIT-free but caches and pools
            check_answers(load(plan, min(1000, count), concurrency), f"ingress {mode} warm-up")
        for _ in range(repeat):
            for mode, plan in plans.items():
                result = load(plan, count, concurrency)
                check_answers(result, f"ingress ({mode})")
                runs[mode].append(result)
            runs["producer"].append(
                asyncio.run(producer_ceiling(bootstrap, topics.raw, records, concurrency))
            )
        durable.check_alive()
    finally:
        durable.stop()
        null.stop()
    note = f"{count} POSTs per run, {concurrency} connections, all fixture bodies in turn"
    figures = [
        figure(
            "ingress",
            "durable webhooks/s, one process",
            "webhooks/s",
            [r["rps"] for r in runs["kafka"]],
            ceiling_name="same app, null sink",
            ceiling_runs=[r["rps"] for r in runs["null"]],
            min_ratio=0.6,
            min_value=10_000,
            note=note,
        ),
        figure(
            "ingress",
            "producer ceiling: aiokafka alone",
            "records/s",
            [r["records_per_s"] for r in runs["producer"]],
            note=f"{count} records, {concurrency} sends in flight, ingress producer settings",
        ),
    ]
    latencies = [
        latency_set("ingress", "POST -> 2xx, Kafka acks=all", runs["kafka"], note=note),
        latency_set("ingress", "POST -> 2xx, null sink", runs["null"], note=note),
    ]
    return figures, latencies, {"ingress_runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with kafka() as bootstrap:
        figures, latencies, _ = measure_ingress(
            bootstrap, args.count, args.concurrency, args.repeat, log_dir()
        )
    print(figures_table({"figures": figures}))
    print()
    print(latency_table({"latencies": latencies}))


if __name__ == "__main__":
    main()
