"""Integration keys in Kafka: each ingress process follows the compacted topic into a KeyTable,
so enabling or revoking a key reaches every running process within about a second."""

from __future__ import annotations

import logging

from ingest.keys import Integration, KeyTable, decode_integration, encode_integration
from kafkaio.clients import KafkaTarget
from kafkaio.follower import CompactedTopicFollower, OnRecord, publish_compacted, read_compacted

log = logging.getLogger("alertpipe.ingest.keys")


def _applier(table: KeyTable) -> OnRecord:
    def apply(key: bytes | None, value: bytes | None) -> None:
        if value is None:
            return
        try:
            table.apply(decode_integration(value))
        except ValueError as exc:
            log.warning("skipping a malformed integration record: %s", exc)

    return apply


class KeyStore(CompactedTopicFollower):
    """Until ``caught_up``, the ingress answers 503 (keys not loaded), never 404."""

    def __init__(self, kafka: KafkaTarget, topic: str) -> None:
        self.table = KeyTable()
        super().__init__(kafka, topic, _applier(self.table), "integration keys")


async def publish_integration(kafka: KafkaTarget, topic: str, item: Integration) -> None:
    await publish_compacted(kafka, topic, item.key_id.encode(), encode_integration(item))


async def read_integrations(kafka: KafkaTarget, topic: str) -> KeyTable:
    """Everything in the topic now (for the CLI)."""
    table = KeyTable()
    await read_compacted(kafka, topic, _applier(table))
    return table
