"""Shared by the ingress tests that run against the real broker."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from alertpipe.children import stop_child
from ingest.app import IngressApp
from ingest.keys import Integration, hash_key, new_hex_key, new_key, new_key_id
from ingest.keystore import KeyStore, publish_integration
from ingest.settings import IngressSettings
from ingest.sink import KafkaSink
from ingest.snstrust import SnsTrust
from kafkaio.clients import KafkaTarget
from kafkaio.settings import Settings, TopicSettings
from schemas.registry import load_sources
from tests.kafka_records import Record


def kafka_settings(bootstrap: str, topics: TopicSettings) -> Settings:
    return Settings(bootstrap_servers=bootstrap, topics=topics)


async def read_all(bootstrap: str, topic: str, expected: int, timeout: float = 30) -> list[Record]:
    """Read ``topic`` from the start until ``expected`` records arrived (or the timeout)."""
    consumer = AIOKafkaConsumer(
        topic,
        isolation_level="read_committed",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[Record] = []
    try:
        async with asyncio.timeout(timeout):
            while len(found) < expected:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend(records)
        # a little longer, to catch anything that should not be there
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            found.extend(records)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return found


@asynccontextmanager
async def running_app(
    bootstrap: str,
    topics: TopicSettings,
    produce_timeout: float = 10.0,
    sns: SnsTrust | None = None,
) -> AsyncIterator[tuple[IngressApp, httpx.AsyncClient]]:
    """``sns``: whom to trust for Amazon SNS (a test's loopback server), else AWS."""
    settings = IngressSettings(
        kafka=kafka_settings(bootstrap, topics),
        produce_timeout_s=produce_timeout,
        sns=sns or SnsTrust(),
    )
    sink = KafkaSink(bootstrap, topics.raw, timeout=produce_timeout, max_request_size=1 << 20)
    keys = KeyStore(bootstrap, topics.integrations)
    app = IngressApp(settings=settings, sources=load_sources(), sink=sink, keys=keys)
    await sink.start()
    await keys.start()
    try:
        async with asyncio.timeout(30):
            while not (sink.ready and keys.caught_up):
                await asyncio.sleep(0.05)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
            yield app, client
    finally:
        await sink.stop()
        await keys.stop()


async def enable(
    bootstrap: KafkaTarget,
    topics: TopicSettings,
    source: str,
    org: str = "acme",
    routing_key: str | None = None,
    topic_arns: tuple[str, ...] = (),
) -> tuple[str, Integration]:
    """A key as ``alertpipe integrations enable`` mints it (32 hex digits for PagerDuty)."""
    key = new_hex_key() if load_sources()[source].key_in_body else new_key()
    now = int(time.time() * 1000)
    item = Integration(new_key_id(), org, source, hash_key(key), now, None, routing_key, topic_arns)
    await publish_integration(bootstrap, topics.integrations, item)
    return key, item


async def wait_for_key(app: IngressApp, key: str, source: str) -> None:
    async with asyncio.timeout(10):
        while app.keys.table.lookup(key, source) is None:
            await asyncio.sleep(0.05)


@contextmanager
def ingress_process(
    env: Mapping[str, str], port: int, timeout: float = 60, *args: str
) -> Iterator[subprocess.Popen[str]]:
    """A real `alertpipe ingress` on 127.0.0.1:``port`` (then ``args``), ready (``/readyz``
    200) when yielded; stopped afterwards if it still runs. Its output is on its stdout."""
    argv = [sys.executable, "-m", "alertpipe.cli", "ingress", "--port", str(port), *args]
    with subprocess.Popen(
        argv, env=dict(env), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as proc:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"ingress exited ({proc.returncode}):\n{proc.communicate()[0]}")
            time.sleep(0.1)
        else:
            proc.kill()
            pytest.fail(f"ingress never became ready:\n{proc.communicate()[0]}")
        try:
            yield proc
        finally:
            # SIGTERM first: a uvicorn supervisor (--workers) stops its worker processes then,
            # where SIGKILL would leave them running, orphaned
            stop_child(proc, grace=20)
