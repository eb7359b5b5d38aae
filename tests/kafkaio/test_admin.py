"""Starting a client against a broker that takes connections and answers nothing past the
handshake (a hung or overloaded broker, one still starting): the caller hears within its
timeout, and no connection is left open once the client's own request timeout has passed.
aiokafka 0.14 leaves the bootstrap connection open when its start is cancelled while it waits
for metadata (the unclosed socket a three-broker fault run met), so ``start_within`` never
cancels it. A real broker cannot be held in that state on cue (a stopped one answers nothing,
not even ApiVersions), hence the listener below that speaks just that much of the protocol."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from ingest.kafkawatch import KafkaWatch
from kafkaio.admin import KafkaUnreachable, connected_admin
from kafkaio.clients import connection


@dataclass
class SilentBroker:
    """A loopback listener that answers ApiVersions (so aiokafka's connection is up) and then
    nothing: a broker that takes connections but cannot serve metadata."""

    address: str = ""
    accepted: int = 0
    open: set[asyncio.StreamWriter] = field(default_factory=set)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open.add(writer)
        try:
            while True:
                (size,) = struct.unpack(">i", await reader.readexactly(4))
                api_key, version, correlation = struct.unpack(">hhi", await reader.readexactly(8))
                await reader.readexactly(size - 8)
                if api_key == API_VERSIONS:
                    writer.write(api_versions_answer(version, correlation))
                # any other request stays unanswered
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open.discard(writer)
            writer.close()

    async def all_closed(self, within: float) -> bool:
        deadline = time.monotonic() + within
        while self.open and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return not self.open


API_VERSIONS, METADATA = 18, 3


def api_versions_answer(version: int, correlation: int) -> bytes:
    """An ApiVersions v0-v2 response (Kafka's protocol guide): correlation id, no error, the
    supported versions of ApiVersions and Metadata, and from v1 a throttle time."""
    supported = [(API_VERSIONS, 0, 2), (METADATA, 0, 9)]
    body = struct.pack(">ihi", correlation, 0, len(supported))
    body += b"".join(struct.pack(">hhh", *api) for api in supported)
    if version >= 1:
        body += struct.pack(">i", 0)
    return struct.pack(">i", len(body)) + body


@pytest.fixture
async def silent() -> AsyncIterator[SilentBroker]:
    broker = SilentBroker()
    server = await asyncio.start_server(broker.serve, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    broker.address = f"{host}:{port}"
    try:
        yield broker
    finally:
        server.close()
        for writer in list(broker.open):
            writer.close()
        with contextlib.suppress(Exception):
            await server.wait_closed()


async def test_a_silent_broker_is_unreachable_in_time_and_no_connection_stays_open(
    silent: SilentBroker,
) -> None:
    started = time.monotonic()
    with pytest.raises(KafkaUnreachable, match=f"cannot reach Kafka at {silent.address}"):
        async with connected_admin(connection(silent.address), 1.0):
            pass
    # the timeout, plus the one diagnosing connection attempt (bounded at 1 s here)
    assert time.monotonic() - started < 3.5
    assert silent.accepted >= 1
    # the start ends on the client's own request timeout (1 s), then the client is closed
    assert await silent.all_closed(within=10.0), f"{len(silent.open)} connection(s) left open"
    gc.collect()  # an unclosed socket or client would warn here (warnings are errors)


async def test_the_ingress_watch_leaves_no_connection_open_on_a_silent_broker(
    silent: SilentBroker,
) -> None:
    watch = KafkaWatch(connection(silent.address), "alerts.raw", timeout_s=1.0)
    try:
        for _ in range(3):  # checks every 2 s during an outage: none may leak
            problem = await watch.check()
            assert "did not answer a metadata request" in (problem or "")
    finally:
        await watch.stop()
    assert silent.accepted >= 3
    assert await silent.all_closed(within=10.0), f"{len(silent.open)} connection(s) left open"
    gc.collect()
