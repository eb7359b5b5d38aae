"""Worker faults on the real broker (issue 5; scenario 3 of the fault suite, at one size: the
crash test's 21,000 events are its minimum): SIGKILL and SIGTERM at random moments while
records flow, a second worker joining and leaving, a worker frozen (SIGSTOP) past its session
timeout and then resumed, a rolling restart of three workers. Invariants: every alert a worker
that never failed would emit is on the delivery topic (none lost); nothing else is (a repeat
carries an alert_id already emitted); under exactly-once a read_committed reader sees no
repeat at all. How many alerts carry another duplicates_suppressed than a clean pass is
reported.

Each scenario runs under exactly-once (the default); at full size (`make test-faults`) every
scenario runs under at-least-once too, at short size only the crash scenario does. Workers have
stable instance ids (static membership, fixed transactional ids), as the StatefulSet gives them.
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

from alertpipe.harness import fresh_topics, worker_env
from kafkaio.settings import TopicSettings
from tests.faults.figures import Figures
from tests.faults.scale import FULL
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

pytestmark = pytest.mark.faults
SEED = int(os.environ.get("FAULT_SEED", str(random.randrange(1 << 30))))
READY = '"msg":"worker ready"'


class Workers:
    """Worker processes of one pipeline (one group, one data dir each), all stopped at the end."""

    def __init__(self, bootstrap: str, topics: TopicSettings, tmp: Path, guarantee: str) -> None:
        self.bootstrap, self.topics = bootstrap, topics
        self.group = f"faults-{uuid.uuid4().hex[:8]}"
        self.guarantee = guarantee
        self.env = worker_env(bootstrap, topics, tmp / "data-0")
        self.env["ALERTPIPE_WORKER_GROUP"] = self.group
        self.env["ALERTPIPE_PROCESSING_GUARANTEE"] = guarantee
        self.tmp = tmp
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, n: int, **extra: str) -> subprocess.Popen[bytes]:
        env = {
            **self.env,
            "ALERTPIPE_WORKER_DATA_DIR": str(self.tmp / f"data-{n}"),
            "ALERTPIPE_WORKER_INSTANCE_ID": f"worker-{n}",
            **extra,
        }
        self.procs[n] = start_worker(env, self.log(n))
        return self.procs[n]

    def log(self, n: int) -> Path:
        return self.tmp / f"worker-{n}.log"

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a frozen worker cannot handle SIGTERM
            stop_worker(proc)


GUARANTEES = ["exactly-once", "at-least-once"]
EXACTLY_ONCE_ONLY = GUARANTEES if FULL else ["exactly-once"]


@pytest.fixture
def workers(
    kafka_bootstrap: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Workers, TopicSettings]]:
    topics = asyncio.run(fresh_topics(kafka_bootstrap, partitions=3))
    pool = Workers(kafka_bootstrap, topics, tmp_path, request.param)
    try:
        yield pool, topics
    finally:
        pool.stop_all()


async def check(
    outcome: Outcome, what: str, pool: Workers, logs: list[Path], figures: Figures
) -> None:
    print(f"\n{outcome.summary(what)} ({pool.guarantee}, FAULT_SEED={SEED})")
    repeated = sum(n - 1 for n in outcome.seen.values() if n > 1)
    figures.update(
        seed=SEED,
        guarantee=pool.guarantee,
        raw_sent=outcome.raw,
        expected=len(outcome.expected),
        delivered=sum(outcome.seen.values()),
        repeated_ids=repeated,
        lost=len(outcome.lost),
        unexpected=len(outcome.unexpected),
        wrong_duplicates_suppressed=len(outcome.miscounted),
    )
    tails = "\n".join(f"--- {log.name}\n{log.read_text()[-2500:]}" for log in logs)
    where = await diagnose(pool.bootstrap, pool.topics, pool.group, outcome.lost)
    assert not outcome.lost, f"{sorted(outcome.lost)[:5]}\n{where}\n{tails}"
    assert not outcome.unexpected, f"{sorted(outcome.unexpected)[:5]}\n{tails}"
    if pool.guarantee == "exactly-once":
        assert repeated == 0, f"{repeated} repeats under exactly-once\n{tails}"
    # Reported, not asserted: a clean pass's duplicates_suppressed is stricter than the issue's
    # invariants (none lost, repeats only of emitted ids).


async def still_processing(out: Watch, feeding: asyncio.Task[None]) -> bool:
    """Wait for the worker's next output: True when it comes; False when the feed has ended
    and none came within 20 s (everything is out; the accounting still finds any loss). While
    the feed runs, no output within 120 s fails the scenario."""
    since = await out.total()
    deadline = time.monotonic() + 120
    while True:
        try:
            await out.growth(since, timeout=20 if feeding.done() else 5)
            return True
        except AssertionError:
            if feeding.done():
                return False
            if time.monotonic() > deadline:
                raise


@pytest.mark.parametrize("workers", GUARANTEES, indirect=True)
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
    sent = []
    async with Watch(kafka_bootstrap, topics.normalized) as out:
        await out.growth(0)
        for sig in signals:
            # only a worker that is processing can be caught mid-batch: wait for its progress
            if not await still_processing(out, feeding):
                break  # the feed has ended and all of it is out: nothing left to catch
            await asyncio.sleep(rng.uniform(0, 1.5))
            sent.append(sig.name)
            worker.send_signal(sig)
            await asyncio.to_thread(worker.wait, 60)
            started = time.monotonic()
            since = await out.ends()
            worker = pool.start(0)
            if not feeding.done():
                try:
                    await grown_everywhere(out, since, timeout=60, anywhere=True)
                    restarts.append(time.monotonic() - started)
                except AssertionError:
                    # the feed ended meanwhile and nothing was left to do: no figure (the
                    # accounting below still finds any alert this restart lost)
                    if not feeding.done():
                        raise
    await feeding
    outcome = await collect(kafka_bootstrap, topics)
    print(
        f"\nsignals: {sent}; restart to first new output: "
        + ", ".join(f"{r:.1f}s" for r in restarts)
    )
    figures["signals_sent"] = len(sent)
    figures["restart_to_output_s"] = "/".join(f"{r:.1f}" for r in restarts)
    assert len(sent) >= 2, f"only {sent} sent before the feed ran out: the scenario is void"
    await check(outcome, "SIGKILL/SIGTERM", pool, [pool.log(0)], figures)
    assert outcome.raw == len(records)


@pytest.mark.parametrize("workers", EXACTLY_ONCE_ONLY, indirect=True)
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
    # Ready once it has partitions and their state (it may take a while on a loaded machine:
    # start-up, the rebalance, the restore), then it works a while and leaves.
    joined = True
    try:
        await wait_for_log(pool.log(2), READY, occurrences=1, timeout=90)
    except AssertionError:
        joined = False
    await asyncio.sleep(rng.uniform(3, 8))
    second.terminate()  # leaves the group cleanly
    await asyncio.to_thread(second.wait, 60)
    await feeding
    outcome = await collect(kafka_bootstrap, topics)
    figures["second_worker_joined"] = joined
    what = f"rebalance (second worker ready: {joined})"
    await check(outcome, what, pool, [pool.log(1), pool.log(2)], figures)
    assert joined, "the second worker never joined: no rebalance was tested"


@pytest.mark.parametrize("workers", EXACTLY_ONCE_ONLY, indirect=True)
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


async def grown_everywhere(
    out: Watch, since: dict[int, int], timeout: float, anywhere: bool = False
) -> float:
    """Seconds until every partition of ``out``'s topic (``anywhere``: one of them) has a
    record readable past ``since``. Records, not end offsets: a transaction's commit or
    abort marker moves a partition's end, but is no output (a restarted worker's fencing
    aborts its predecessor's transaction at once)."""
    started = time.monotonic()
    consumer = out.consumer
    consumer.assign(out.partitions)
    for tp in out.partitions:
        consumer.seek(tp, since.get(tp.partition, 0))
    waiting = {tp.partition for tp in out.partitions}
    while time.monotonic() - started < timeout:
        batch = await consumer.getmany(timeout_ms=100)
        waiting -= {tp.partition for tp, records in batch.items() if records}
        if not waiting or (anywhere and len(waiting) < len(out.partitions)):
            return time.monotonic() - started
    raise AssertionError(f"partitions {sorted(waiting)} of {out.topic} had no new record")


@pytest.mark.parametrize("workers", EXACTLY_ONCE_ONLY, indirect=True)
async def test_a_killed_worker_that_stays_down_is_taken_over_within_the_session_timeout(
    kafka_bootstrap: str, workers: tuple[Workers, TopicSettings], figures: Figures
) -> None:
    """SIGKILL one of two workers and leave it down: its partitions wait for the session
    timeout (15 s), then the other worker takes them (fencing the dead one's transaction)."""
    pool, topics = workers
    rng = random.Random(SEED)
    records = make_events(rng.randrange(1 << 30))
    victim = pool.start(1)
    pool.start(2)
    feeding = asyncio.create_task(produce(kafka_bootstrap, topics.raw, records, seconds=40))
    async with Watch(kafka_bootstrap, topics.normalized) as out:
        await out.growth(0)
        await asyncio.sleep(rng.uniform(4, 8))  # both joined by now
        victim.send_signal(signal.SIGKILL)
        await asyncio.to_thread(victim.wait, 60)
        takeover = await grown_everywhere(out, await out.ends(), timeout=90)
    await feeding
    outcome = await collect(kafka_bootstrap, topics)
    print(f"\nSIGKILL, stays down: every partition had new output after {takeover:.1f}s")
    figures["kill_to_output_s"] = round(takeover, 1)
    await check(outcome, "SIGKILL, stays down", pool, [pool.log(1), pool.log(2)], figures)
    # The broker drops the dead member one session (15 s) after its last heartbeat; the other
    # one rejoins within a heartbeat (3 s), restores the taken partitions and commits: the
    # bound catches a takeover that waits on anything else (librdkafka's 45 s default
    # session, a 60 s transaction timeout), not the figure, which docs/reliability.md reports.
    assert takeover <= 15 + 3 + 5, f"takeover took {takeover:.1f}s (session 15 s, heartbeat 3 s)"


@pytest.mark.parametrize("workers", EXACTLY_ONCE_ONLY, indirect=True)
async def test_a_rolling_restart_of_three_workers_loses_nothing(
    kafka_bootstrap: str, workers: tuple[Workers, TopicSettings], figures: Figures
) -> None:
    """As a deploy does: under steady load, each of three workers in turn gets SIGTERM, is
    started again with its instance id, and the next waits until it is ready."""
    pool, topics = workers
    rng = random.Random(SEED)
    records = make_events(rng.randrange(1 << 30))
    for n in (1, 2, 3):
        pool.start(n)
    feeding = asyncio.create_task(produce(kafka_bootstrap, topics.raw, records, seconds=45))
    pauses = []
    async with Watch(kafka_bootstrap, topics.normalized) as out:
        for n in (1, 2, 3):  # a deploy starts from a ready set
            await wait_for_log(pool.log(n), READY, occurrences=1, timeout=90)
        await out.growth(0)
        for n in (1, 2, 3):
            proc = pool.procs[n]
            proc.terminate()
            assert await asyncio.to_thread(proc.wait, 60) == 0, f"worker {n} did not stop cleanly"
            stopped = time.monotonic()
            since = await out.ends()
            pool.start(n)
            await wait_for_log(pool.log(n), READY, occurrences=2, timeout=90)
            pauses.append(time.monotonic() - stopped)
            await grown_everywhere(out, since, timeout=60)
    await feeding
    outcome = await collect(kafka_bootstrap, topics)
    print("\nrolling restart: stop to ready again " + ", ".join(f"{p:.1f}s" for p in pauses))
    figures["stop_to_ready_s"] = "/".join(f"{p:.1f}" for p in pauses)
    logs = [pool.log(n) for n in (1, 2, 3)]
    await check(outcome, "rolling restart of 3", pool, logs, figures)


async def wait_for_log(log: Path, text: str, occurrences: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (await asyncio.to_thread(log.read_text, errors="replace")).count(text) >= occurrences:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{log.name}: {text!r} not seen {occurrences} times in {timeout:.0f}s")
