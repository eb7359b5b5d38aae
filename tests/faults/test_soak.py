"""Scenario 7: soak. A moderate steady rate with 20% repeats (the same body sent again, as a
retrying sender does) for 10 minutes in the full run (45 s in the short one), through a real
ingress and worker. Invariants: zero errors (every request 2xx, no traceback), every body
accounted for, consumer lag bounded while it runs and zero after, and the memory of ingress
and worker does not keep growing (growth over the last two thirds of the run is bounded)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.accounting import group_lag, worker_topics
from tests.faults.driver import Live, faulted_run, load_figures
from tests.faults.figures import Figures
from tests.faults.scale import pick

DURATION_S = pick(45.0, 600.0)
RATE = pick(20.0, 30.0)
REPEATS = 0.2
SAMPLE_EVERY_S = pick(3.0, 10.0)
# Bounds: growth after the first third of the run, and lag while it runs (records).
MAX_GROWTH_MB = 64.0
MAX_LAG = int(RATE * 30)

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.faults,
    pytest.mark.timeout(int(DURATION_S) + 600),
]


def repeating_body(run: str) -> Callable[[int], bytes]:
    """New incidents and updates, and 20% exact repeats of an earlier body."""
    rng = random.Random(run)
    sent: list[bytes] = []

    def body(n: int) -> bytes:
        if sent and rng.random() < REPEATS:
            return rng.choice(sent[-500:])
        kind = rng.choice(["CRITICAL", "CRITICAL", "WARNING", "INFO", "RECOVERY"])
        made = json.dumps(
            {"message_type": kind, "entity_id": f"{run}-{n % 2000}", "state_message": f"n={n}"}
        ).encode()
        sent.append(made)
        return made

    return body


async def test_soak_steady_rate_with_repeats(
    kafka_bootstrap: str, figures: Figures, tmp_path: Path
) -> None:
    samples: list[tuple[float, float, int]] = []  # ingress MiB, worker MiB, lag

    async def watch(live: Live) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while loop.time() - started < DURATION_S:
            await asyncio.sleep(SAMPLE_EVERY_S)
            try:
                consumed = worker_topics(live.topics, live.group)
                lag = await group_lag(kafka_bootstrap, live.group, consumed)
            except Exception:
                lag = -1
            samples.append((live.ingress.rss_mib(), live.worker.rss_mib(), lag))

    run = await faulted_run(
        kafka_bootstrap, tmp_path, rate=RATE, faults=watch, tail_s=0.0,
        body_of=repeating_body,
    )  # fmt: skip
    third = max(1, len(samples) // 3)
    growth = [samples[-1][i] - samples[third - 1][i] for i in (0, 1)]
    lags = [s[2] for s in samples if s[2] >= 0]
    figures.update(
        duration_s=DURATION_S,
        rate=RATE,
        **load_figures(run),
        ingress_rss_mb=[round(samples[third - 1][0]), round(samples[-1][0])],
        worker_rss_mb=[round(samples[third - 1][1]), round(samples[-1][1])],
        max_lag=max(lags, default=-1),
    )
    figures["tracebacks"] = run.worker.text().count("Traceback") + run.ingress.text().count(
        "Traceback"
    )
    accepted = [o.request_id for o in run.load.ok() if o.request_id]
    assert set(run.load.statuses()) == {200}, run.load.statuses()
    assert not run.book.unaccounted(accepted)
    assert not run.book.lost, sorted(run.book.lost)[:10]
    assert not run.book.unexpected
    assert figures.values["tracebacks"] == 0
    assert run.worker_alive
    assert run.ingress_alive
    assert run.lag == 0
    assert lags, "consumer lag could not be sampled"
    assert max(lags) <= MAX_LAG, lags
    assert growth[0] < MAX_GROWTH_MB, f"ingress grew {growth[0]:.0f} MiB: {samples}"
    assert growth[1] < MAX_GROWTH_MB, f"worker grew {growth[1]:.0f} MiB: {samples}"
