"""Worker faults on the real broker (issue 5; scenario 3 of the fault suite, at one size: the
crash test's 21,000 events are its minimum): SIGKILL and SIGTERM at random moments while
records flow, a second worker joining and leaving, a worker frozen (SIGSTOP) past its session
timeout and then resumed. Invariants: every alert a worker that never failed would emit is on
the delivery topic (none lost); nothing else is (a repeat carries an alert_id already
emitted). How many alerts carry another duplicates_suppressed than a clean pass is reported.

``FAULT_SEED`` picks the moments (printed with the figures), so a failure can be rerun."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from alertpipe.settings import TopicSettings
from tests.faults.figures import Figures
from tests.faults.scale import FULL
from tests.ingest.kafka_helpers import fresh_topics
from tests.processors.faults import (
    Outcome,
    Watch,
    collect,
    diagnose,
    make_events,
    produce,
    start_worker,
    stop_worker,
)
from tests.processors.test_worker_e2e import pipeline_env

pytestmark = pytest.mark.faults
SEED = int(os.environ.get("FAULT_SEED", str(random.randrange(1 << 30))))


class Workers:
    """Worker processes of one pipeline (one group, one data dir each), all stopped at the end."""

    def __init__(self, bootstrap: str, topics: TopicSettings, tmp: Path) -> None:
        self.bootstrap, self.topics = bootstrap, topics
        self.group = f"faults-{uuid.uuid4().hex[:8]}"
        self.env = pipeline_env(bootstrap, topics, tmp / "data-0")
        self.env["ALERTPIPE_WORKER_GROUP"] = self.group
        self.tmp = tmp
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, n: int, **extra: str) -> subprocess.Popen[bytes]:
        env = {**self.env, "ALERTPIPE_WORKER_DATA_DIR": str(self.tmp / f"data-{n}"), **extra}
        self.procs[n] = start_worker(env, self.log(n))
        return self.procs[n]

    def log(self, n: int) -> Path:
        return self.tmp / f"worker-{n}.log"

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a frozen worker cannot handle SIGTERM
            stop_worker(proc)


@pytest.fixture
def workers(kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[Workers, TopicSettings]]:
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=3))
    pool = Workers(kafka_bootstrap, topics, tmp_path)
    try:
        yield pool, topics
    finally:
        pool.stop_all()


async def check(
    outcome: Outcome, what: str, pool: Workers, logs: list[Path], figures: Figures
) -> None:
    print(f"\n{outcome.summary(what)} (FAULT_SEED={SEED})")
    figures.update(
        seed=SEED,
        raw_sent=outcome.raw,
        expected=len(outcome.expected),
        delivered=sum(outcome.seen.values()),
        repeated_ids=sum(n - 1 for n in outcome.seen.values() if n > 1),
        lost=len(outcome.lost),
        unexpected=len(outcome.unexpected),
        wrong_duplicates_suppressed=len(outcome.miscounted),
    )
    tails = "\n".join(f"--- {log.name}\n{log.read_text()[-2500:]}" for log in logs)
    where = await diagnose(pool.bootstrap, pool.topics, pool.group, outcome.lost)
    assert not outcome.lost, f"{sorted(outcome.lost)[:5]}\n{where}\n{tails}"
    assert not outcome.unexpected, f"{sorted(outcome.unexpected)[:5]}\n{tails}"
    # Reported, not asserted: a clean pass's duplicates_suppressed is stricter than the issue's
    # invariants (none lost, repeats only of emitted ids), and a rebalance run on 2026-11-23 gave
    # 1 alert of 10,614 another count (cause open, issue 5 note).


async def test_sigkill_and_sigterm_at_random_moments_lose_nothing(
    kafka_bootstrap: str, workers: tuple[Workers, TopicSettings], figures: Figures
) -> None:
    pool, topics = workers
    rng = random.Random(SEED)
    records = make_events(rng.randrange(1 << 30))
    worker = pool.start(0)
    feeding = asyncio.create_task(produce(kafka_bootstrap, topics.raw, records, seconds=30))
    signals = [signal.SIGKILL, signal.SIGKILL, signal.SIGTERM, signal.SIGKILL, signal.SIGKILL]
    restarts = []
    async with Watch(kafka_bootstrap, topics.normalized) as out:
        await out.growth(0)
        for sig in signals:
            # only a worker that is processing can be caught mid-batch: wait for its progress
            await out.growth(await out.total())
            await asyncio.sleep(rng.uniform(0, 1.5))
            worker.send_signal(sig)
            await asyncio.to_thread(worker.wait, 60)
            started = time.monotonic()
            worker = pool.start(0)
            if not feeding.done():
                await out.growth(await out.total())
                restarts.append(time.monotonic() - started)
    await feeding
    outcome = await collect(kafka_bootstrap, topics)
    print(
        f"\nsignals: {[s.name for s in signals]}; restart to first new output: "
        + ", ".join(f"{r:.1f}s" for r in restarts)
    )
    figures["restart_to_output_s"] = "/".join(f"{r:.1f}" for r in restarts)
    await check(outcome, "SIGKILL/SIGTERM", pool, [pool.log(0)], figures)
    assert outcome.raw == len(records)


# Known to fail now and then (docs/reliability.md, "Open: ..."): 8 of ~10,600 alerts lost in
# one short run of 4, 2 in one full-size run of 2. The test runs and checks everything every
# time; at short size (`make test`, CI) its failure is reported as XFAIL rather than failing
# the build, and a pass as XPASS. At full size (`make test-faults`) a failure fails.
@pytest.mark.xfail(
    not FULL,
    reason="open: alerts lost around a rebalance when a worker joins and leaves "
    "(docs/reliability.md)",
    strict=False,
)
async def test_a_second_worker_joining_and_leaving_loses_nothing(
    kafka_bootstrap: str, workers: tuple[Workers, TopicSettings], figures: Figures
) -> None:
    pool, topics = workers
    rng = random.Random(SEED)
    records = make_events(rng.randrange(1 << 30))
    pool.start(1)
    feeding = asyncio.create_task(produce(kafka_bootstrap, topics.raw, records, seconds=30))
    async with Watch(kafka_bootstrap, topics.normalized) as out:
        await out.growth(0)
    await asyncio.sleep(rng.uniform(0, 3))
    second = pool.start(2)
    await asyncio.sleep(rng.uniform(8, 14))
    second.terminate()  # leaves the group cleanly
    await asyncio.to_thread(second.wait, 60)
    await feeding
    outcome = await collect(kafka_bootstrap, topics)
    joined = "Worker]: Ready" in pool.log(2).read_text()
    figures["second_worker_joined"] = joined
    what = f"rebalance (second worker ready: {joined})"
    await check(outcome, what, pool, [pool.log(1), pool.log(2)], figures)
    assert joined, "the second worker never joined: no rebalance was tested"


async def test_a_frozen_worker_is_evicted_and_its_work_taken_over(
    kafka_bootstrap: str, workers: tuple[Workers, TopicSettings], figures: Figures
) -> None:
    """SIGSTOP past the session timeout: the other worker takes its partitions; SIGCONT: the
    frozen one finds itself evicted, rejoins, and nothing it finishes late does harm."""
    pool, topics = workers
    rng = random.Random(SEED)
    records = make_events(rng.randrange(1 << 30))
    short = {"ALERTPIPE_WORKER_SESSION_TIMEOUT_S": "8"}
    frozen = pool.start(1, **short)
    pool.start(2, **short)
    feeding = asyncio.create_task(produce(kafka_bootstrap, topics.raw, records, seconds=40))
    async with Watch(kafka_bootstrap, topics.normalized) as out:
        await out.growth(0)
        await asyncio.sleep(rng.uniform(2, 6))
        frozen.send_signal(signal.SIGSTOP)
        await asyncio.sleep(12)  # past the 8 s session timeout: the rebalance starts
        before = await out.ends()
        await asyncio.sleep(10)
        during = await out.ends()
    frozen.send_signal(signal.SIGCONT)
    # it finds itself evicted: it carries on, or exits with 75 when frozen mid-batch (and is
    # started again, as a supervisor would)
    await asyncio.sleep(5)
    exited = frozen.poll()
    if exited == 75:
        pool.start(1, **short)
    await feeding
    outcome = await collect(kafka_bootstrap, topics)
    # stage 2 of partition p writes partition p of the delivery topic (same keys, same count)
    grew = sorted(p for p in during if during[p] > before.get(p, 0))
    logs = [pool.log(1), pool.log(2)]
    what = f"SIGSTOP 22s (partitions processed while frozen: {grew}; exit on resume: {exited})"
    figures.update(partitions_taken_over=len(grew), exit_on_resume=exited)
    await check(outcome, what, pool, logs, figures)
    assert exited in (None, 75), f"the frozen worker exited with {exited}"
    assert grew == sorted(during), "the live worker did not take over the frozen one's work"
