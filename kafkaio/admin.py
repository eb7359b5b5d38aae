"""The admin client, opened one way (``connected_admin``), and what is asked of it: whether
the broker answers (the one definition of it), and a topic's partitions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import ClassVar, Protocol

from aiokafka.admin import AIOKafkaAdminClient

from kafkaio.clients import KafkaTarget, connection, new_admin
from kafkaio.diagnose import connection_problem
from schemas.errors import EXIT_KAFKA_UNREACHABLE, AlertpipeError


class KafkaUnreachable(AlertpipeError, ConnectionError):
    """No broker answered a metadata request within the allowed time."""

    exit_code: ClassVar[int] = EXIT_KAFKA_UNREACHABLE


def unreachable(
    kafka: KafkaTarget, timeout: float, cause: BaseException, problem: str | None = None
) -> KafkaUnreachable:
    """The one wording of "a client could not connect", for every client kind; ``problem``
    says why when it is known (``connection_problem``)."""
    where = connection(kafka).bootstrap_servers
    if problem is not None:
        return KafkaUnreachable(f"cannot reach Kafka at {where}: {problem}")
    return KafkaUnreachable(f"cannot reach Kafka at {where} within {timeout:.0f}s ({cause!r})")


async def explained(kafka: KafkaTarget, timeout: float, cause: BaseException) -> KafkaUnreachable:
    """``unreachable`` with the reason found by one more connection attempt (a few seconds)."""
    problem = await connection_problem(kafka, min(5.0, max(1.0, timeout)))
    return unreachable(kafka, timeout, cause, problem)


class Startable(Protocol):
    async def start(self) -> None: ...


Close = Callable[[], Awaitable[object]]

# Clients whose start outlived its time: each is closed once its start has ended.
_closing: set[asyncio.Task[None]] = set()


async def start_within(client: Startable, close: Close, kafka: KafkaTarget, timeout: float) -> None:
    """Start an aiokafka client (admin, producer, consumer), or KafkaUnreachable after
    ``timeout`` seconds; the caller closes the client only once it has started."""
    try:
        await start_before(client, close, timeout)
    except Exception as exc:  # aiokafka raises several unrelated types for "not there"
        raise await explained(kafka, timeout, exc) from exc


async def start_before(client: Startable, close: Close, timeout: float) -> None:
    """Start the client within ``timeout`` seconds, or raise TimeoutError or its start's error.

    The start is never cancelled: aiokafka 0.14 leaves the bootstrap connection it is reading
    from open when its start is cancelled (an unclosed socket per attempt on a broker that takes
    connections but does not answer). A start that outlives ``timeout`` ends on the client's
    own request timeout, and ``close`` runs then; a failed start is closed before the error."""
    starting = asyncio.ensure_future(client.start())
    try:
        await asyncio.wait([starting], timeout=timeout)
    except asyncio.CancelledError:
        _close_once_ended(starting, close)
        raise
    if not starting.done():
        _close_once_ended(starting, close)
        raise TimeoutError(f"no answer within {timeout:.0f}s")
    failure = starting.exception()
    if failure is not None:
        with contextlib.suppress(Exception):
            await close()
        raise failure


def _close_once_ended(starting: asyncio.Future[None], close: Close) -> None:
    async def closing() -> None:
        with contextlib.suppress(BaseException):
            await starting
        with contextlib.suppress(Exception):
            await close()

    task = asyncio.create_task(closing(), name="close-unstarted-kafka-client")
    _closing.add(task)
    task.add_done_callback(_closing.discard)


@contextlib.asynccontextmanager
async def connected_admin(kafka: KafkaTarget, timeout: float) -> AsyncIterator[AIOKafkaAdminClient]:
    """An admin client that answered within ``timeout`` seconds, else KafkaUnreachable."""
    admin = new_admin(kafka, request_timeout_ms=max(1000, int(timeout * 1000)))
    await start_within(admin, admin.close, kafka, timeout)
    try:
        yield admin
    finally:
        await admin.close()


async def fetch_cluster(kafka: KafkaTarget, timeout: float) -> dict[str, object]:
    """One metadata round trip: aiokafka's cluster description, or KafkaUnreachable."""
    try:
        async with connected_admin(kafka, timeout) as admin, asyncio.timeout(timeout):
            description: dict[str, object] = await admin.describe_cluster()
            return description
    except KafkaUnreachable:
        raise
    except Exception as exc:  # aiokafka raises several unrelated types for "not there"
        raise await explained(kafka, timeout, exc) from exc


async def partitions_by_topic(
    admin: AIOKafkaAdminClient, topics: list[str]
) -> dict[str, list[int]]:
    """The partition ids of each topic that exists (a missing one is left out). The admin
    client, because a consumer only knows topics it has already fetched metadata for."""
    if not topics:
        return {}
    described = await admin.describe_topics(topics)
    return {
        t["topic"]: sorted(p["partition"] for p in t["partitions"])
        for t in described
        if t["error_code"] == 0
    }


async def partition_ids(kafka: KafkaTarget, topic: str, *, timeout: float = 15.0) -> list[int]:
    """Partitions of ``topic``; empty when it does not exist. Raises KafkaUnreachable."""
    async with connected_admin(kafka, timeout) as admin:
        found = await partitions_by_topic(admin, [topic])
    return found.get(topic, [])


async def existing_topics(
    kafka: KafkaTarget, topics: list[str], *, timeout: float = 15.0
) -> set[str]:
    """Which of ``topics`` exist, asked over one connection. Raises KafkaUnreachable."""
    async with connected_admin(kafka, timeout) as admin:
        return set(await partitions_by_topic(admin, topics))


async def partition_count(kafka: KafkaTarget, topic: str, *, timeout: float = 15.0) -> int:
    """Partitions of ``topic``; 0 when it does not exist. Raises KafkaUnreachable."""
    return len(await partition_ids(kafka, topic, timeout=timeout))


async def wait_until_answers(kafka: KafkaTarget, timeout: float) -> None:
    """Retry metadata requests until one succeeds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    # aiokafka logs each refused connection at ERROR; polling a starting broker, that is noise.
    quiet = logging.getLogger("aiokafka")
    previous = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        while time.monotonic() < deadline:
            try:
                await fetch_cluster(kafka, min(5.0, max(0.5, deadline - time.monotonic())))
                return
            except KafkaUnreachable as exc:
                last = exc
                await asyncio.sleep(0.2)
    finally:
        quiet.setLevel(previous)
    raise KafkaUnreachable(
        f"no Kafka broker answered at {connection(kafka).bootstrap_servers} within {timeout:.0f}s"
    ) from last


def answers(kafka: KafkaTarget, timeout: float = 2.0) -> bool:
    """Synchronous yes/no probe, for status commands; never raises."""
    try:
        asyncio.run(fetch_cluster(kafka, timeout))
    except KafkaUnreachable:
        return False
    return True
