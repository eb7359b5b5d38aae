"""In-process ingress: the real app with an injected sink and key table (no Kafka here; the
Kafka-backed sink and key store have their own tests against the real broker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingest.app import IngressApp
from ingest.keys import Integration, KeyTable, hash_key, new_hex_key, new_key, new_key_id
from ingest.settings import IngressSettings
from ingest.sink import SinkUnavailable
from kafkaio.settings import Settings
from schemas.registry import load_sources

FIXTURES = Path(__file__).parents[1] / "fixtures"


@dataclass
class RecordingSink:
    records: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = field(default_factory=list)
    failure: str | None = None
    ready: bool = True
    problem: str | None = None

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        if self.failure:
            raise SinkUnavailable(self.failure)
        self.records.append((topic, key, value, headers))


@dataclass
class StaticKeys:
    table: KeyTable = field(default_factory=KeyTable)
    caught_up: bool = True
    problem: str | None = None

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def enable(
        self,
        source: str,
        org: str = "acme",
        routing_key: str | None = None,
        topic_arns: tuple[str, ...] = (),
    ) -> str:
        key = new_hex_key() if load_sources()[source].key_in_body else new_key()
        integration = Integration(
            new_key_id(), org, source, hash_key(key), 1, None, routing_key, topic_arns
        )
        self.table.apply(integration)
        return key


@dataclass
class Ingress:
    app: IngressApp
    sink: RecordingSink
    keys: StaticKeys
    client: httpx.AsyncClient

    def url(self, source: str, key: str, routing_key: str = "team-a") -> str:
        prefix = load_sources()[source].paths[0]
        return f"/integrations/{prefix}/{key}/{routing_key}"


def make_app(**overrides: Any) -> tuple[IngressApp, RecordingSink, StaticKeys]:
    sink, keys = RecordingSink(), StaticKeys()
    settings = IngressSettings(kafka=Settings(bootstrap_servers="unused:9092"), **overrides)
    app = IngressApp(
        settings=settings,
        sources=load_sources(),
        sink=sink,
        keys=keys,
        clock=lambda: 1_742_240_600.123,
    )
    return app, sink, keys


@pytest.fixture
async def ingress() -> AsyncIterator[Ingress]:
    app, sink, keys = make_app()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://ingress") as client:
        yield Ingress(app, sink, keys, client)
