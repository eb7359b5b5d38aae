"""One fault scenario's run: topics, a real worker and ingress, a steady load, the faults
played while it flows, then the ledger of where every 2xx went."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from alertpipe.harness import Proc, pipeline_env, worker_env
from kafkaio.settings import TopicSettings, prefixed_topics
from kafkaio.topics import ensure_topics, topic_specs
from tests.faults.accounting import Ledger, settled_ledger, wait_for_no_lag, worker_topics
from tests.faults.load import LoadResult, steady_load
from tests.faults.processes import running_ingress, running_worker
from tests.ingest.kafka_helpers import enable

ROUTING_KEYS = 6  # spread over the raw partitions


@dataclass
class Timeline:
    """Moments (monotonic seconds) the fault script marks, by name."""

    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str) -> float:
        self.marks[name] = time.monotonic()
        return self.marks[name]


@dataclass
class Run:
    topics: TopicSettings
    load: LoadResult
    book: Ledger
    timeline: Timeline
    worker: Proc
    ingress: Proc
    lag: int
    drained_s: float
    worker_alive: bool
    ingress_alive: bool


@dataclass
class Live:
    """What a fault script may act on while the load flows."""

    timeline: Timeline
    topics: TopicSettings
    group: str
    worker: Proc
    ingress: Proc


FaultScript = Callable[[Live], Awaitable[None]]


def generic_body(run: str) -> Callable[[int], bytes]:
    """One new incident per request: every accepted body must come out as one alert."""

    def body(n: int) -> bytes:
        return json.dumps(
            {"message_type": "CRITICAL", "entity_id": f"{run}-{n}", "state_message": f"n={n}"}
        ).encode()

    return body


async def faulted_run(
    bootstrap: str,
    tmp_path: Path,
    *,
    rate: float,
    faults: FaultScript,
    tail_s: float,
    max_seconds: float = 600,
    replication: int = 1,
    produce_timeout_s: float = 3.0,
    settle_s: float = 240.0,
    body_of: Callable[[str], Callable[[int], bytes]] | None = None,
) -> Run:
    prefix = f"f.{uuid.uuid4().hex[:8]}"
    topics = prefixed_topics(
        prefix,
        partitions=3,
        replication_factor=replication,
        min_insync_replicas=max(1, replication - 1),
    )
    wenv = worker_env(bootstrap, topics, tmp_path / "worker-data")
    # the worker's internal topics too, with min.insync.replicas like the others
    specs = topic_specs(topics, wenv["ALERTPIPE_WORKER_GROUP"])
    await ensure_topics(bootstrap, specs, timeout=60)
    key, _ = await enable(bootstrap, topics, "generic", org="faults")
    ienv = pipeline_env(bootstrap, topics, ALERTPIPE_PRODUCE_TIMEOUT_S=str(produce_timeout_s))
    timeline = Timeline()
    with (
        running_worker(wenv, tmp_path / "worker.log") as worker,
        running_ingress(ienv, tmp_path / "ingress.log") as ingress,
    ):
        body = (body_of or generic_body)(prefix)
        urls = [
            f"{ingress.base_url}/integrations/generic/20131114/alert/{key}/rk{n}"
            for n in range(ROUTING_KEYS)
        ]
        timeline.mark("load_start")
        stop = asyncio.Event()
        load = asyncio.create_task(
            steady_load(urls, body, rate=rate, count=int(rate * max_seconds), stop=stop)
        )
        group = wenv["ALERTPIPE_WORKER_GROUP"]
        await faults(Live(timeline, topics, group, worker, ingress))
        await asyncio.sleep(tail_s)  # the load goes on after the last fault
        stop.set()
        result = await load
        timeline.mark("load_end")
        accepted = [o.request_id for o in result.ok() if o.request_id]
        book = await settled_ledger(bootstrap, topics, group, accepted, timeout=settle_s)
        consumed = worker_topics(topics, group)
        lag, drained = await wait_for_no_lag(bootstrap, group, consumed, 120)
        worker_alive, ingress_alive = worker.alive(), ingress.alive()
    return Run(
        topics,
        result,
        book,
        timeline,
        worker,
        ingress,
        lag,
        drained,
        worker_alive,
        ingress_alive,
    )


def load_figures(run: Run) -> dict[str, object]:
    """The figures every load scenario reports."""
    statuses = run.load.statuses()
    accepted = [o.request_id for o in run.load.ok() if o.request_id]
    outcomes = [run.book.outcome(r) for rid in accepted for r in run.book.by_request.get(rid, [])]
    return {
        "sent": len(run.load.outcomes),
        "2xx": len(accepted),
        "503": statuses.get(503, 0),
        "other": sum(n for s, n in statuses.items() if s not in (200, 503)),
        "raw_records": len(run.book.raw),
        "alerts": outcomes.count("alert"),
        "duplicates": outcomes.count("duplicate"),
        "dead_letters": outcomes.count("dead_letter"),
        "lost": len(run.book.unaccounted(accepted)),
        "repeated_ids": run.book.repeated,
        "unexpected_ids": len(run.book.unexpected),
        "final_lag": run.lag,
    }
