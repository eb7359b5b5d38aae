"""Replay speed: records/s of `alertpipe replay` over a prefilled raw topic, and its peak
memory on a quarter of the range and on the whole range (bounded memory: it should not grow
with the range). Also the pure replay core alone, without Kafka, as the ceiling.

    python -m bench.replay --records 100000 --incidents 10000

The raw records: ~70% generic events over ``--incidents`` incidents (triggers, repeats, acks,
recoveries), ~20% fixture bodies of every source (bench.stage1.mixed_records, with its ~1%
invalid bodies), ~10% exact repeats of an earlier body (webhook retries).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.figures import figure
from bench.stack import kafka
from bench.stage1 import headers_for, mixed_records, prefill
from kafkaio.settings import TopicSettings, kafka_env, prefixed_topics
from kafkaio.topics import ensure_topics, topic_specs
from processors.incidents import IncidentPolicy
from processors.pipeline import RawInput
from processors.replay import Replayer
from schemas.raw import raw_record_key

KINDS = ["CRITICAL", "CRITICAL", "WARNING", "ACKNOWLEDGEMENT", "RECOVERY", "INFO"]
CHUNK = 20_000
Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


def raw_records(count: int, incidents: int, seed: int) -> list[Record]:
    rng = random.Random(seed)
    fixtures = mixed_records(count // 5 + 1, seed=seed)
    clock = int(time.time()) - 3600
    out: list[Record] = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.1 and out:
            out.append(out[rng.randrange(len(out))])
        elif roll < 0.3:
            out.append(fixtures[n % len(fixtures)])
        else:
            k = rng.randrange(incidents)
            clock += 1
            body = json.dumps(
                {"message_type": rng.choice(KINDS), "entity_id": f"inc-{k}", "timestamp": clock}
            ).encode()
            routing = f"rk{k % 16}"
            headers = headers_for("generic", "application/json", n)
            headers = [(h, routing.encode() if h == "routing_key" else v) for h, v in headers]
            out.append((raw_record_key("bench", routing), body, headers))
    return out


def core_rate(records: list[Record]) -> float:
    """Records/s of the pure replay core alone (no Kafka, no output)."""
    replayer = Replayer({}, IncidentPolicy())
    now = int(time.time() * 1000)
    inputs = [RawInput(v, h, "alerts.raw", 0, n) for n, (_, v, h) in enumerate(records)]
    started = time.perf_counter()
    for raw in inputs:
        replayer.feed(raw, now)
    return len(inputs) / (time.perf_counter() - started)


def high_water_kib(pid: int) -> int | None:
    """The process's peak resident memory since its exec (VmHWM; Linux), None once it ended.
    Not ru_maxrss: that keeps the pre-exec peak of the forked bench process, which holds the
    generated records."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cli_replay(bootstrap: str, topics: TopicSettings, args: list[str]) -> dict[str, Any]:
    """One `alertpipe replay` process (output to /dev/null): its summary figures, its wall
    time and its peak resident memory (sampled every 20 ms; a high-water mark)."""
    env = {**os.environ, **kafka_env(bootstrap, topics)}
    started = time.monotonic()
    peak = 0
    with subprocess.Popen(
        [sys.executable, "-m", "alertpipe.cli", "replay", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        while proc.poll() is None:
            peak = max(peak, high_water_kib(proc.pid) or 0)
            time.sleep(0.02)
        assert proc.stderr is not None
        summary = proc.stderr.read()
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"alertpipe replay {' '.join(args)} failed:\n{summary}")
    found = re.search(r"(\d+) of (\d+) records in ([\d.]+) s", summary)
    assert found, summary
    records, seconds = int(found.group(1)), float(found.group(3))
    return {
        "args": " ".join(args),
        "records": records,
        "seconds": seconds,
        "records_per_s": records / seconds,
        "process_wall_s": round(wall, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "summary": summary.strip().splitlines(),
    }


def measure_replay(
    bootstrap: str, records: int, partitions: int, repeat: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Dry-run `alertpipe replay --since 1d -q` over a raw topic prefilled with the worker
    bench's records (bench.stage1.mixed_records), ``repeat`` times, next to the pure replay
    core on the same records in this process (the ceiling: no Kafka, no process start)."""
    topics = prefixed_topics(f"bench.{uuid.uuid4().hex[:8]}", partitions=partitions)
    asyncio.run(ensure_topics(bootstrap, topic_specs(topics)))
    data = mixed_records(records)
    asyncio.run(prefill(bootstrap, topics.raw, data))
    runs, cores = [], []
    for _ in range(repeat):
        cores.append(core_rate(data))
        runs.append(cli_replay(bootstrap, topics, ["--since", "1d", "-q"]))
    figures = [
        figure(
            "replay",
            "dry-run `alertpipe replay` of raw",
            "records/s",
            [r["records_per_s"] for r in runs],
            ceiling_name="pure replay core, in process",
            ceiling_runs=cores,
            note=f"{records} raw records, {partitions} partitions; rate from its own summary",
        ),
        figure(
            "replay",
            "replay process peak RSS",
            "MiB",
            [r["peak_rss_mib"] for r in runs],
            better="lower",
        ),
    ]
    return figures, {"replay_runs": runs, "replay_core": cores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, default=6)
    args = parser.parse_args()

    with kafka() as bootstrap:
        run_cli_bench(bootstrap, args)


def run_cli_bench(bootstrap: str, args: argparse.Namespace) -> None:
    topics = prefixed_topics(f"bench.{uuid.uuid4().hex[:8]}", partitions=args.partitions)
    asyncio.run(ensure_topics(bootstrap, topic_specs(topics)))
    sample: list[Record] = []
    started = time.monotonic()
    for first in range(0, args.records, CHUNK):  # in chunks: the bench's memory stays small
        chunk = raw_records(min(CHUNK, args.records - first), args.incidents, seed=first)
        asyncio.run(prefill(bootstrap, topics.raw, chunk))
        sample = sample or chunk
    print(f"prefilled {args.records} raw records in {time.monotonic() - started:.0f} s")

    core = core_rate(sample)
    quarter = args.records // args.partitions // 4
    runs = [
        cli_replay(bootstrap, topics, ["--partition", "0", "--to-offset", str(quarter), "-q"]),
        cli_replay(bootstrap, topics, ["--since", "1d", "-q"]),
        cli_replay(bootstrap, topics, ["--since", "1d", "--json"]),
    ]
    print(
        f"\nreplay, {args.records} raw records, {args.incidents} incidents, "
        f"{args.partitions} partitions, {os.cpu_count()} cores (shared)"
    )
    print("| run | records | seconds | records/s | peak RSS MiB |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| pure core, in process, no Kafka | {len(sample)} | | {core:,.0f} | |")
    for run in runs:
        print(
            f"| `alertpipe replay {run['args']}` | {run['records']} | {run['seconds']} | "
            f"{run['records_per_s']:,.0f} | {run['peak_rss_mib']} |"
        )
    print(json.dumps({"core_records_per_s": core, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
