"""The Health page's samples (the I/O shell): every few seconds the worker group's lag on the
raw and repartition topics (committed offsets against the ends, as the worker's own
``consumer_lag`` metric counts it) and the ingress's and the worker's ``/readyz``, the last
hour kept for the charts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from kafkaio.admin import connected_admin, partition_ids
from kafkaio.clients import KafkaTarget, new_consumer
from processors.worker.observe import partition_lag

log = logging.getLogger("alertpipe.console.health")
EVERY_S = 5.0
KEEP = 720  # samples: an hour at EVERY_S


@dataclass(frozen=True)
class Probe:
    ready: bool | None  # None: not asked (no URL) or no answer
    detail: str


@dataclass(frozen=True)
class HealthSample:
    at: int  # epoch ms
    lag: int | None  # records behind, None: unknown
    ingress: Probe
    worker: Probe


def probe(url: str, timeout: float = 2.0) -> Probe:
    """GET ``url`` (a /readyz): ready on 200, not ready on another answer, None when unreachable."""
    if not url:
        return Probe(None, "no URL configured")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return Probe(answer.status == 200, answer.read(300).decode("utf-8", "replace").strip())
    except urllib.error.HTTPError as exc:
        return Probe(False, f"{exc.code}: {exc.read(300).decode('utf-8', 'replace').strip()}")
    except OSError as exc:
        return Probe(None, f"no answer: {exc}")


class HealthSampler:
    def __init__(
        self, kafka: KafkaTarget, group: str, topics: tuple[str, ...], ingress: str, worker: str
    ) -> None:
        self.kafka = kafka
        self.group = group
        self.topics = topics
        self.urls = (f"{ingress}/readyz" if ingress else "", f"{worker}/readyz" if worker else "")
        self.samples: deque[HealthSample] = deque(maxlen=KEEP)
        self._task: asyncio.Task[None] | None = None
        self._ends: AIOKafkaConsumer | None = None  # asks the end offsets, kept between samples

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="console-health")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._ends is not None:
            await self._ends.stop()

    async def _run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(EVERY_S)

    async def sample(self) -> HealthSample:
        ingress, worker = await asyncio.gather(
            asyncio.to_thread(probe, self.urls[0]), asyncio.to_thread(probe, self.urls[1])
        )
        try:
            lag: int | None = await asyncio.wait_for(self.lag(), 10)
        except Exception as exc:  # the page says "unknown"; the next sample tries again
            log.warning("cannot read the lag of group %s: %r", self.group, exc)
            lag = None
        taken = HealthSample(int(time.time() * 1000), lag, ingress, worker)
        self.samples.append(taken)
        return taken

    async def lag(self) -> int:
        tps = [
            TopicPartition(t, p) for t in self.topics for p in await partition_ids(self.kafka, t)
        ]
        if self._ends is None:
            consumer = new_consumer(
                self.kafka, enable_auto_commit=False, isolation_level="read_committed"
            )
            await consumer.start()
            self._ends = consumer
        ends = _plain(await self._ends.end_offsets(tps))
        async with connected_admin(self.kafka, 10) as admin:
            found = await admin.list_consumer_group_offsets(self.group, partitions=tps)
        committed = {(tp.topic, tp.partition): m.offset for tp, m in found.items() if m.offset >= 0}
        never = [tp for tp in tps if (tp.topic, tp.partition) not in committed]
        starts = _plain(await self._ends.beginning_offsets(never)) if never else {}
        return sum(partition_lag(ends, committed, starts).values())


def _plain(offsets: dict[TopicPartition, int]) -> dict[tuple[str, int], int]:
    return {(tp.topic, tp.partition): int(o) for tp, o in offsets.items() if o is not None}
