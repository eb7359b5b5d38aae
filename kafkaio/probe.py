"""Ask a Kafka cluster for metadata: the one definition of "the broker answers"."""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka.admin import AIOKafkaAdminClient


class KafkaUnreachable(ConnectionError):
    """No broker answered a metadata request within the allowed time."""


async def fetch_cluster(bootstrap_servers: str, timeout: float) -> dict[str, object]:
    """One metadata round trip: aiokafka's cluster description, or KafkaUnreachable."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=max(1000, int(timeout * 1000))
    )
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            description: dict[str, object] = await admin.describe_cluster()
            return description
    except Exception as exc:  # aiokafka raises several unrelated types for "not there"
        raise KafkaUnreachable(f"no Kafka broker answered at {bootstrap_servers}: {exc!r}") from exc
    finally:
        await admin.close()


async def wait_until_answers(bootstrap_servers: str, timeout: float) -> None:
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
                await fetch_cluster(
                    bootstrap_servers, min(5.0, max(0.5, deadline - time.monotonic()))
                )
                return
            except KafkaUnreachable as exc:
                last = exc
                await asyncio.sleep(0.2)
    finally:
        quiet.setLevel(previous)
    raise KafkaUnreachable(
        f"no Kafka broker answered at {bootstrap_servers} within {timeout:.0f}s"
    ) from last


def answers(bootstrap_servers: str, timeout: float = 2.0) -> bool:
    """Synchronous yes/no probe, for status commands; never raises."""
    try:
        asyncio.run(fetch_cluster(bootstrap_servers, timeout))
    except KafkaUnreachable:
        return False
    return True
