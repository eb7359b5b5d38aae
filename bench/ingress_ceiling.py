"""Durable webhooks/s of one ingress process next to its ceiling, in one run.

For each repetition, starts `alertpipe ingress` twice on a free loopback port: once writing to
Kafka (acks=all, the real thing) and once with --null-sink (same app, answers without Kafka),
drives the same bounded load from a separate process (bench.loadgen), and prints the medians,
min-max and the ratio. Uses KAFKA_BOOTSTRAP_SERVERS or the local broker (`make kafka-start`).

    python -m bench.ingress_ceiling --count 20000 --concurrency 64 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from alertpipe.integrations import enable
from alertpipe.localkafka import LocalBroker
from alertpipe.ports import free_port
from alertpipe.settings import kafka_env, prefixed_topics
from alertpipe.topics import ensure_topics, topic_specs
from schemas.registry import load_sources

BODY = Path(__file__).parents[1] / "tests" / "fixtures" / "thousandeyes" / "trigger.json"
CLI = [sys.executable, "-m", "alertpipe.cli"]


def start_ingress(env: dict[str, str], port: int, null_sink: bool) -> subprocess.Popen[bytes]:
    args = [*CLI, "ingress", "--port", str(port), *(["--null-sink"] if null_sink else [])]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("ingress did not become ready")


def load(url: str, count: int, concurrency: int) -> dict[str, object]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            url,
            str(BODY),
            "--count",
            str(count),
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or LocalBroker().start().bootstrap_servers
    assert bootstrap
    topics = prefixed_topics(f"bench.{uuid.uuid4().hex[:8]}")
    asyncio.run(ensure_topics(bootstrap, topic_specs(topics)))
    done = asyncio.run(
        enable(
            bootstrap,
            topics.integrations,
            load_sources(),
            "thousandeyes",
            "bench",
            "http://127.0.0.1",
        )
    )
    env = {
        **os.environ,
        **kafka_env(bootstrap, topics),
        "ALERTPIPE_RATE_LIMIT_PER_S": "1000000",
        "ALERTPIPE_RATE_LIMIT_BURST": "1000000",
    }
    runs: dict[str, list[dict[str, object]]] = {"kafka": [], "null": []}
    for _ in range(args.repeat):
        for mode in ("kafka", "null"):
            port = free_port()
            proc = start_ingress(env, port, null_sink=mode == "null")
            url = done.url.replace("http://127.0.0.1", f"http://127.0.0.1:{port}").replace(
                "$routing_key", "bench"
            )
            try:
                load(url, min(2000, args.count), args.concurrency)  # warm-up
                runs[mode].append(load(url, args.count, args.concurrency))
            finally:
                proc.terminate()
                proc.wait(timeout=30)

    def summary(mode: str, field: str) -> tuple[float, float, float]:
        values = [float(r[field]) for r in runs[mode]]  # type: ignore[arg-type]
        return statistics.median(values), min(values), max(values)

    print(
        f"ingress, one process, {args.count} POSTs of {BODY.name} ({BODY.stat().st_size} B), "
        f"{args.concurrency} connections, {args.repeat} repetitions, {os.cpu_count()} cores"
    )
    print("| mode | webhooks/s median (min-max) | p50 ms | p99 ms | statuses |")
    print("| --- | --- | --- | --- | --- |")
    for mode in ("kafka", "null"):
        rps, lo, hi = summary(mode, "rps")
        p50, p99 = summary(mode, "p50_ms")[0], summary(mode, "p99_ms")[0]
        statuses = [r["statuses"] for r in runs[mode]]
        label = "durable (Kafka acks=all)" if mode == "kafka" else "ceiling (null sink)"
        print(f"| {label} | {rps:.0f} ({lo:.0f}-{hi:.0f}) | {p50} | {p99} | {statuses} |")
    ratio = summary("kafka", "rps")[0] / summary("null", "rps")[0]
    print(f"ratio durable/ceiling: {ratio:.2f}")


if __name__ == "__main__":
    main()
