"""Enabling and revoking integration keys (the operations behind ``alertpipe integrations``)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

from ingest.keys import ORG_PATTERN, Integration, hash_key, new_hex_key, new_key, new_key_id
from ingest.keystore import publish_integration, read_integrations
from kafkaio.clients import KafkaTarget
from schemas.errors import UsageError
from schemas.registry import SourceInfo

ROUTING_KEY = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TOPIC_GLOB = re.compile(
    r"^arn:(aws[a-z-]*|\*):sns:[a-z0-9*-]+:([0-9]{12}|\*):[A-Za-z0-9_.*-]{1,256}$"
)


class IntegrationError(UsageError, ValueError):
    """Bad input (unknown source, bad org name, unknown key id)."""


@dataclass(frozen=True)
class EnabledIntegration:
    integration: Integration
    key: str  # shown once, never stored
    url: str

    def to_json(self) -> dict[str, str | list[str] | None]:
        i = self.integration
        return {
            "url": self.url,
            "key": self.key,
            "key_id": i.key_id,
            "org": i.org,
            "source": i.source,
            "routing_key": i.routing_key,
            **({"topic_arns": list(i.topic_arns)} if i.topic_arns else {}),
        }


def service_url(base_url: str, source: SourceInfo, key: str, routing_key: str | None = None) -> str:
    """The URL a user pastes into the monitoring tool: with the routing key, or VictorOps'
    placeholder at the end; for a source with the key in the body (PagerDuty) its endpoint."""
    if source.endpoint is not None and not source.paths:
        return f"{base_url.rstrip('/')}{source.endpoint}"
    base, tail = base_url.rstrip("/"), routing_key or "$routing_key"
    return f"{base}/integrations/{source.paths[0]}/{key}/{tail}"


async def enable(
    bootstrap: KafkaTarget,
    topic: str,
    sources: dict[str, SourceInfo],
    source: str,
    org: str,
    base_url: str,
    routing_key: str | None = None,
    topic_arns: tuple[str, ...] = (),
) -> EnabledIntegration:
    """``routing_key``: the alertpipe routing key the integration's alerts go to (recorded
    with the key; a source whose URL carries one gets it in the printed URL). ``topic_arns``:
    for Amazon SNS, the topics (ARNs or globs) the key takes messages and subscriptions of:
    at least one, and only there."""
    if source not in sources:
        raise IntegrationError(f"unknown source {source!r}; known: {', '.join(sorted(sources))}")
    info = sources[source]
    if info.keys_from is not None:
        raise IntegrationError(
            f"{source} takes the keys of {info.keys_from}: enable {info.keys_from} instead"
        )
    if routing_key is not None and not ROUTING_KEY.match(routing_key):
        raise IntegrationError(
            f"routing key {routing_key!r}: use letters, digits, '-' and '_' (at most 256)"
        )
    if not ORG_PATTERN.match(org):
        raise IntegrationError(
            f"org {org!r}: use 1-64 lower-case letters, digits, '-' or '_', starting with a "
            "letter or digit"
        )
    check_topics(info, topic_arns)
    key = new_hex_key() if info.key_in_body else new_key()
    now = int(time.time() * 1000)
    item = Integration(
        new_key_id(), org, source, hash_key(key), now, None, routing_key, tuple(topic_arns)
    )
    await publish_integration(bootstrap, topic, item)
    return EnabledIntegration(item, key, service_url(base_url, info, key, routing_key))


def check_topics(info: SourceInfo, topic_arns: tuple[str, ...]) -> None:
    if info.protocol != "amazon_sns":
        if topic_arns:
            raise IntegrationError(f"{info.name} takes no topics (--topic-arn is for SNS)")
        return
    if not topic_arns:
        raise IntegrationError(
            f"{info.name} needs --topic-arn: the SNS topics (ARN, or a glob such as "
            "arn:aws:sns:*:123456789012:*) whose messages and subscriptions the key takes"
        )
    for arn in topic_arns:
        if not TOPIC_GLOB.match(arn):
            raise IntegrationError(f"topic {arn!r}: not an SNS topic ARN (arn:aws:sns:...)")


async def revoke(bootstrap: KafkaTarget, topic: str, key_id: str) -> tuple[Integration, bool]:
    """Returns the integration and whether this call revoked it (False: it already was)."""
    table = await read_integrations(bootstrap, topic)
    found = next((i for i in table.all() if i.key_id == key_id), None)
    if found is None:
        raise IntegrationError(f"no integration key with id {key_id!r}")
    if not found.active:
        return found, False
    revoked = replace(found, revoked_at=int(time.time() * 1000))
    await publish_integration(bootstrap, topic, revoked)
    return revoked, True
