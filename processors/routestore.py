"""Routing configs in Kafka: the worker follows the compacted routes topic (key = org), so a
change made with ``alertpipe routes`` is used for the next alert, without a restart."""

from __future__ import annotations

import logging

from kafkaio.clients import KafkaTarget
from kafkaio.follower import (
    CompactedTopicFollower,
    OnRecord,
    publish_compacted,
    read_compacted,
)
from processors.routing import RoutingConfig, RoutingConfigError, config_to_json, decode_config

log = logging.getLogger("alertpipe.processors.routes")


def _applier(configs: dict[str, RoutingConfig]) -> OnRecord:
    def apply(key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        org = key.decode("utf-8", "replace")
        if value is None:  # tombstone: the org's routing was deleted
            configs.pop(org, None)
            return
        try:
            configs[org] = decode_config(org, value)
        except RoutingConfigError as exc:  # keep the last good config rather than none
            log.error("ignoring a bad routing config for %s: %s", org, exc)

    return apply


class RouteStore(CompactedTopicFollower):
    def __init__(self, kafka: KafkaTarget, topic: str) -> None:
        self.configs: dict[str, RoutingConfig] = {}
        super().__init__(kafka, topic, _applier(self.configs), "routing configs")


async def read_routes(kafka: KafkaTarget, topic: str) -> dict[str, RoutingConfig]:
    configs: dict[str, RoutingConfig] = {}
    await read_compacted(kafka, topic, _applier(configs))
    return configs


async def publish_routes(kafka: KafkaTarget, topic: str, config: RoutingConfig) -> None:
    await publish_compacted(kafka, topic, config.org.encode(), config_to_json(config))
