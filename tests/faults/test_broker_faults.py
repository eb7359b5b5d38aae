"""Scenarios 1 and 2: brokers fail under a steady webhook load.

1. Three brokers, topics with replication factor 3 and min.insync.replicas=2: SIGKILL the
   leader of a raw partition, restart it; then SIGKILL two brokers, restart them.
2. One broker: SIGKILL it (and, in the full run, SIGTERM it too), restart it on its port.

Invariants: every request answered 2xx is in the raw topic and ends up processed (an alert,
a counted duplicate or a dead letter); while fewer than two replicas are in sync (or the only
broker is down) requests get 503, never 2xx; ingress and worker recover without restarts.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertpipe.localbroker.broker import LocalBroker
from alertpipe.localbroker.cluster import LocalCluster
from kafkaio.admin import connected_admin
from tests.faults.driver import Live, Run, faulted_run, load_figures
from tests.faults.figures import Figures
from tests.faults.scale import pick

pytestmark = [pytest.mark.kafka, pytest.mark.faults, pytest.mark.timeout(pick(600, 1800))]


async def partitions(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """The partitions of ``topic`` as the admin client describes them (untyped JSON-like)."""
    async with connected_admin(bootstrap, 15.0) as admin:
        [described] = await admin.describe_topics([topic])
    found: list[dict[str, Any]] = described["partitions"]
    return found


async def wait_for_full_isr(bootstrap: str, topic: str, copies: int, timeout: float) -> float:
    """Seconds until every partition of ``topic`` has ``copies`` replicas in sync again."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    last: object = "never described"
    while loop.time() - started < timeout:
        try:
            last = [
                (p["partition"], p["leader"], p["isr"]) for p in await partitions(bootstrap, topic)
            ]
            if all(len(isr) == copies for _, _, isr in last):
                return loop.time() - started
        except Exception as exc:  # leaders moving: ask again
            last = exc
        await asyncio.sleep(0.5)
    raise AssertionError(
        f"{topic}: replicas not all back in sync within {timeout:.0f}s; last seen "
        f"(partition, leader, isr): {last!r}"
    )


async def readiness_becomes(live: Live, ready: bool, timeout: float) -> float | None:
    """Seconds until the ingress's /readyz says ``ready`` (polled every 0.2 s), or None."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with httpx.AsyncClient(base_url=live.ingress.base_url, timeout=2.0) as client:
        while loop.time() - started < timeout:
            try:
                answer = await client.get("/readyz")
                if (answer.status_code == 200) == ready:
                    return loop.time() - started
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    return None


def window(run: Run, start: str, end: str) -> list[int]:
    marks = run.timeline.marks
    return [o.status for o in run.load.sent_between(marks[start], marks[end])]


def check_common(run: Run, figures: Figures) -> None:
    figures.update(**load_figures(run))
    accepted = [o.request_id for o in run.load.ok() if o.request_id]
    assert accepted, "no request was accepted at all"
    unaccounted = run.book.unaccounted(accepted)
    assert not unaccounted, f"{len(unaccounted)} 2xx requests not accounted for: {unaccounted[:5]}"
    assert not run.book.lost, sorted(run.book.lost)[:10]
    assert not run.book.unexpected, sorted(run.book.unexpected)[:10]
    assert set(run.load.statuses()) <= {200, 503}, (run.load.statuses(), run.load.errors())
    assert run.worker_alive, f"the worker died:\n{run.worker.text()[-4000:]}"
    assert run.ingress_alive, f"the ingress died:\n{run.ingress.text()[-4000:]}"
    assert run.lag == 0, f"consumer lag stayed at {run.lag}"
    assert "Traceback" not in run.ingress.text(), run.ingress.text()[-4000:]


async def test_three_brokers_leader_killed_then_two_down(
    cluster: LocalCluster, figures: Figures, tmp_path: Path
) -> None:
    bootstrap = cluster.status().bootstrap_servers
    assert bootstrap is not None
    hold = pick(10.0, 30.0)

    async def script(live: Live) -> None:
        t, topics = live.timeline, live.topics
        await asyncio.sleep(pick(6.0, 20.0))
        [leader] = [
            p["leader"] for p in await partitions(bootstrap, topics.raw) if p["partition"] == 0
        ]
        assert isinstance(leader, int)
        figures["killed_leader"] = leader
        await asyncio.to_thread(cluster.stop_node, leader, first=signal.SIGKILL)
        t.mark("leader_killed")
        await asyncio.sleep(hold)
        t.mark("leader_restart")
        await asyncio.to_thread(cluster.start_node, leader)
        t.mark("leader_back")
        figures["leader_restart_s"] = t.marks["leader_back"] - t.marks["leader_restart"]
        figures["isr_restored_s"] = await wait_for_full_isr(bootstrap, topics.raw, 3, 120)
        await asyncio.sleep(pick(4.0, 20.0))
        two = [next(n for n in sorted(cluster.nodes) if n != leader), leader]
        for node in two:
            await asyncio.to_thread(cluster.stop_node, node, first=signal.SIGKILL)
        t.mark("two_down")
        await asyncio.sleep(hold)
        t.mark("two_restart")
        for node in two:
            await asyncio.to_thread(cluster.start_node, node)
        t.mark("two_back")

    run = await faulted_run(
        bootstrap, tmp_path, rate=pick(25.0, 60.0), faults=script, tail_s=pick(10.0, 30.0),
        replication=3,
    )  # fmt: skip
    marks = run.timeline.marks
    while_two_down = window(run, "two_down", "two_restart")
    figures.update(
        sent_while_two_down=len(while_two_down),
        two_xx_while_two_down=sum(1 for s in while_two_down if 200 <= s < 300),
        first_2xx_after_leader_kill_s=run.load.first_ok_after(marks["leader_killed"]),
        first_2xx_after_two_restart_s=run.load.first_ok_after(marks["two_restart"]),
    )
    check_common(run, figures)
    assert while_two_down, "no request was sent while two brokers were down"
    assert set(while_two_down) == {503}, f"answers with two brokers down: {set(while_two_down)}"
    assert run.load.first_ok_after(marks["two_back"]) is not None, "no 2xx after the restart"


async def test_single_broker_restart_under_load(
    own_broker: LocalBroker, figures: Figures, tmp_path: Path
) -> None:
    bootstrap = own_broker.status().bootstrap_servers
    assert bootstrap is not None
    stops = pick([signal.SIGKILL], [signal.SIGKILL, signal.SIGTERM, signal.SIGKILL])
    downtime = pick(8.0, 15.0)
    unready_after: list[float | None] = []
    ready_after: list[float | None] = []

    async def script(live: Live) -> None:
        t = live.timeline
        for n, sig in enumerate(stops):
            await asyncio.sleep(pick(6.0, 20.0))
            await asyncio.to_thread(own_broker.stop, first=sig, timeout=30)
            t.mark(f"down{n}")
            unready_after.append(await readiness_becomes(live, False, downtime))
            await asyncio.sleep(max(0.0, downtime - (unready_after[-1] or downtime)))
            t.mark(f"restart{n}")
            await asyncio.to_thread(own_broker.start)  # same port: clients reconnect
            t.mark(f"back{n}")
            ready_after.append(await readiness_becomes(live, True, 30.0))

    run = await faulted_run(
        bootstrap, tmp_path, rate=pick(25.0, 60.0), faults=script, tail_s=pick(10.0, 30.0)
    )
    marks = run.timeline.marks
    while_down = [s for n in range(len(stops)) for s in window(run, f"down{n}", f"restart{n}")]
    figures.update(
        restarts=len(stops),
        sent_while_down=len(while_down),
        two_xx_while_down=sum(1 for s in while_down if 200 <= s < 300),
        recovery_s=max(
            run.load.first_ok_after(marks[f"back{n}"]) or float("inf") for n in range(len(stops))
        ),
    )
    figures.update(
        unready_after_down_s=[None if s is None else round(s, 1) for s in unready_after],
        ready_after_back_s=[None if s is None else round(s, 1) for s in ready_after],
    )
    check_common(run, figures)
    assert while_down, "no request was sent while the broker was down"
    assert set(while_down) == {503}, f"answers while down: {set(while_down)}"
    # /readyz: unready within the watch's interval + timeout (2 + 2 s) and some scheduling
    # of a loaded machine, ready again once the broker answers.
    assert all(s is not None and s <= 6.5 for s in unready_after), unready_after
    assert all(s is not None for s in ready_after), ready_after
    never = [n for n in range(len(stops)) if run.load.first_ok_after(marks[f"back{n}"]) is None]
    assert not never, f"no 2xx after restart(s) {never}: the ingress did not recover by itself"
