"""End-to-end latency at a fixed offered rate: from the load generator writing a POST to the
normalized alert being readable on alerts.normalized, through one ingress and one worker.

Each POST is a generic CRITICAL whose entity_id holds its number and the time it was written
(bench.loadgen's ``@SEQ@``/``@SENT_NS@``), so every request opens its own incident and is
emitted once; this process reads alerts.normalized (fetch wait 5 ms) and subtracts. Both
clocks are this machine's wall clock. The base rate runs ``repeat`` times, then the rate goes
up one step at a time (each after the worker caught up with the last) until p99 reaches the
guarantee's target (P99_LIMIT_MS), alerts go missing, or the step cap; when the base rate
already breaks, the rate is halved per step instead, to find one that holds. Both processing
guarantees run, exactly-once (the default) first, each on its own topics, ingress and worker;
the reader is read_committed.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka.structs import TopicPartition

from alertpipe.harness import WORKER_READY
from bench.figures import figure, latency_set, latency_summary
from bench.stack import (
    GUARANTEES,
    BenchError,
    fresh_topics,
    service_urls,
    start_ingress,
    start_worker,
    wait_for_log,
    worker_env,
)
from bench.stage1 import FIXTURES
from bench.worker import wait_drained
from kafkaio.clients import new_consumer
from kafkaio.worker_topics import internal_topics

# The p99 target of each processing guarantee (issue): exactly-once commits a transaction every
# ALERTPIPE_WORKER_COMMIT_INTERVAL_S and read_committed readers wait for it.
P99_LIMIT_MS = {"exactly-once": 250.0, "at-least-once": 100.0}
CONCURRENCY = 64
ENTITY = re.compile(r"^e2e-(\d+)-(\d+)-(\d+)$")


def body_template(step: int, path: Path) -> Path:
    body = json.loads((FIXTURES / "generic" / "critical.json").read_text())
    body["entity_id"] = f"e2e-{step}-@SEQ@-@SENT_NS@"
    path.write_text(json.dumps(body))
    return path


async def step_run(
    bootstrap: str, topic: str, partitions: int, plan: Path, step: int, rate: int, seconds: float
) -> dict[str, Any]:
    """One paced load; latencies (ms) of the alerts of this step seen on ``topic``."""
    consumer = new_consumer(
        bootstrap,
        isolation_level="read_committed",
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=5,
    )
    await consumer.start()
    latencies: list[float] = []
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_end(*tps)
        for tp in tps:
            await consumer.position(tp)
        args = ["--plan", str(plan), "--rate", str(rate), "--duration", str(seconds)]
        load = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.loadgen",
            *args,
            "--concurrency",
            str(CONCURRENCY),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        communicate = asyncio.ensure_future(load.communicate())
        expected = int(rate * seconds)
        deadline = None
        while len(latencies) < expected:
            batch = await consumer.getmany(timeout_ms=20)
            received = time.time_ns()
            for records in batch.values():
                for record in records:
                    entity = orjson.loads(record.value).get("entity_id", "")
                    found = ENTITY.match(entity)
                    if found and int(found.group(1)) == step:
                        latencies.append((received - int(found.group(3))) / 1e6)
            if communicate.done() and deadline is None:
                deadline = time.monotonic() + 15  # what is not there by then is missing
            if deadline is not None and time.monotonic() > deadline:
                break
        out, err = await communicate
        if load.returncode != 0:
            raise BenchError(f"bench.loadgen failed ({load.returncode}):\n{err.decode()[-2000:]}")
        http = json.loads(out)
    finally:
        await consumer.stop()
    return {
        "rate": rate,
        "seconds": seconds,
        "http": http,
        "delivered": len(latencies),
        "sent": expected,
        **latency_summary(latencies),
    }


def holds(run: dict[str, Any], limit_ms: float) -> bool:
    """p99 under the limit and every alert delivered."""
    return bool(run["p99_ms"] < limit_ms and run["delivered"] >= run["sent"])


def measure_e2e(
    bootstrap: str,
    rate: int,
    seconds: float,
    repeat: int,
    step: int,
    max_steps: int,
    partitions: int,
    logs: Path,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Both guarantees, the default (exactly-once) first, each with its own topics, ingress
    and worker."""
    figures: list[dict[str, Any]] = []
    latencies: list[dict[str, Any]] = []
    details: dict[str, Any] = {}
    for guarantee in GUARANTEES:
        f, lat, runs = guarantee_e2e(
            bootstrap, guarantee, rate, seconds, repeat, step, max_steps, partitions, logs
        )
        figures += f
        latencies += lat
        details[guarantee] = runs
    return figures, latencies, {"e2e_runs": details}


def guarantee_e2e(
    bootstrap: str,
    guarantee: str,
    rate: int,
    seconds: float,
    repeat: int,
    step: int,
    max_steps: int,
    partitions: int,
    logs: Path,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    limit = P99_LIMIT_MS[guarantee]
    topics = fresh_topics(bootstrap, partitions)
    url = service_urls(bootstrap, topics, ["generic"])["generic"]
    ingress = start_ingress(f"e2e-ingress-{guarantee}", bootstrap, topics, logs)
    env = worker_env(bootstrap, topics, logs / f"e2e-data-{guarantee}", guarantee=guarantee)
    worker = start_worker(f"e2e-worker-{guarantee}", env, logs)
    runs: list[dict[str, Any]] = []
    group = env["ALERTPIPE_WORKER_GROUP"]
    repartition = internal_topics(group, topics.raw).repartition
    transactional = frozenset([repartition] if guarantee == GUARANTEES[0] else [])

    def measured(n: int, plan: Path, offered: int, duration: float) -> dict[str, Any]:
        """One step, then wait until the worker caught up, so that no backlog of this step
        delays the next one."""
        run = asyncio.run(
            step_run(bootstrap, topics.normalized, partitions, plan, n, offered, duration)
        )
        started = time.monotonic()
        asyncio.run(
            wait_drained(
                bootstrap,
                group,
                [topics.raw, repartition],
                [topics.normalized, topics.dead_letter],
                timeout=600,
                transactional=transactional,
            )
        )
        run["caught_up_after_s"] = round(time.monotonic() - started, 1)
        run["guarantee"] = guarantee
        return run

    try:
        wait_for_log(worker, WORKER_READY, timeout=180)

        def plan_for(n: int) -> Path:
            body = body_template(n, logs / f"e2e-body-{guarantee}-{n}.json")
            target = {"url": url.replace("{port}", str(ingress.port)), "body_file": str(body)}
            plan = logs / f"e2e-plan-{guarantee}-{n}.json"
            plan.write_text(json.dumps([{**target, "content_type": "application/json"}]))
            return plan

        # warm-up: partitions assigned, producers connected, first incidents opened
        measured(0, plan_for(0), 100, 2)
        n = 0
        for _ in range(repeat):
            n += 1
            runs.append(measured(n, plan_for(n), rate, seconds))
        broke = any(not holds(r, limit) for r in runs)
        for k in range(1, max_steps + 1):
            # above the base rate while it holds; below it (halving) when it already broke
            if holds(runs[-1], limit) == broke:
                break
            n += 1
            next_rate = rate + k * step if not broke else max(1, rate // 2**k)
            runs.append(measured(n, plan_for(n), next_rate, seconds))
        ingress.check_alive()
        worker.check_alive()
    finally:
        ingress.stop()
        worker.stop()
    base = [r for r in runs if r["rate"] == rate]
    what = f"POST -> normalized readable, {guarantee}"
    latencies = [latency_set("e2e", f"{what}, {rate}/s", base)]
    for r in runs[len(base) :]:
        latencies.append(latency_set("e2e", f"{what}, {r['rate']}/s", [r]))
    held = [r["rate"] for r in runs if holds(r, limit)]
    figures = [
        figure(
            "e2e",
            f"p99 at {rate}/s offered, {guarantee}",
            "ms",
            [r["p99_ms"] for r in base],
            better="lower",
            max_value=limit,
            note=f"{seconds:g} s per run, one ingress and one worker",
        ),
        figure(
            "e2e",
            f"highest offered rate tried with p99 < {limit:g} ms, {guarantee}",
            "webhooks/s",
            [max(held)] if held else [],
            note=f"steps of {step}/s above {rate}/s (halving below it if {rate}/s breaks), "
            f"at most {max_steps}, {seconds:g} s each",
        ),
    ]
    return figures, latencies, runs
