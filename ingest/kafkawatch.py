"""Whether Kafka can take the ingress's records now, for /readyz between deliveries.

A connected producer says nothing about a broker that has gone since: aiokafka reconnects
behind it, and a request learns of it only when its delivery times out (the ingress's Kafka
timeout, 10 s by default). So the ingress asks the cluster for the raw topic's metadata every
couple of seconds on an admin client of its own, and is not ready while no broker answers
or a partition of the raw topic has no leader: a load balancer then sends the requests to an
ingress that can record them. Requests are still tried while not ready (a 503 comes from the
delivery itself), so a wrong reading here never refuses an alert that could be recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from kafkaio.admin import start_before
from kafkaio.clients import KafkaConnection, new_admin

log = logging.getLogger("alertpipe.ingest.kafka")

INTERVAL_S = 2.0  # between two checks
TIMEOUT_S = 2.0  # for one check: not ready at most INTERVAL_S + TIMEOUT_S after Kafka went


def leaderless(described: Sequence[dict[str, Any]], topic: str) -> str | None:
    """What keeps ``topic`` from taking records, from an admin client's ``describe_topics``
    answer: an error for the topic, or partitions without a leader; None: nothing."""
    found = next((t for t in described if t.get("topic") == topic), None)
    if found is None:
        return f"Kafka did not describe topic {topic}"
    if found.get("error_code", 0) != 0:
        return f"Kafka answers error {found['error_code']} for topic {topic}"
    partitions = found.get("partitions") or []
    if not partitions:
        return f"topic {topic} has no partitions"
    without = sorted(p["partition"] for p in partitions if p.get("leader", -1) < 0)
    if without:
        return f"partition(s) {', '.join(map(str, without))} of {topic} have no leader"
    return None


class KafkaWatch:
    """Checks every ``interval_s`` that ``topic`` has a leader for each partition; ``problem``
    is None while it does (and before the first check: the producer's own connection says
    whether Kafka answered at start)."""

    def __init__(
        self,
        kafka: KafkaConnection,
        topic: str,
        *,
        interval_s: float = INTERVAL_S,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.kafka = kafka
        self.topic = topic
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.problem: str | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kafka-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._drop_admin()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            problem = await self.check()
            if problem != self.problem:
                if problem is None:
                    log.info("Kafka takes records again: ready")
                else:
                    log.warning("not ready: %s", problem)
            self.problem = problem

    async def check(self) -> str | None:
        """One metadata round trip within ``timeout_s``: what is wrong, or None."""
        try:
            if self._admin is None:
                admin = new_admin(self.kafka, request_timeout_ms=int(self.timeout_s * 1000))
                await start_before(admin, admin.close, self.timeout_s)
                self._admin = admin
            async with asyncio.timeout(self.timeout_s):
                described = await self._admin.describe_topics([self.topic])
        except Exception as exc:  # aiokafka raises several unrelated types for "not there"
            await self._drop_admin()  # a new client next time: it bootstraps afresh
            reason = "no answer" if isinstance(exc, TimeoutError) else repr(exc)
            return (
                f"Kafka at {self.kafka} did not answer a metadata request within "
                f"{self.timeout_s:.0f}s ({reason})"
            )
        return leaderless(described, self.topic)

    async def _drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()
