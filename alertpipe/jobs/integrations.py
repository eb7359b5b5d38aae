"""Enabling and revoking integration keys (the operations behind ``alertpipe integrations``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from ingest.keys import ORG_PATTERN, Integration, hash_key, new_key, new_key_id
from ingest.keystore import publish_integration, read_integrations
from schemas.errors import UsageError
from schemas.registry import SourceInfo


class IntegrationError(UsageError, ValueError):
    """Bad input (unknown source, bad org name, unknown key id)."""


@dataclass(frozen=True)
class EnabledIntegration:
    integration: Integration
    key: str  # shown once, never stored
    url: str

    def to_json(self) -> dict[str, str]:
        i = self.integration
        return {
            "url": self.url,
            "key": self.key,
            "key_id": i.key_id,
            "org": i.org,
            "source": i.source,
        }


def service_url(base_url: str, source: SourceInfo, key: str) -> str:
    """The URL a user pastes into the monitoring tool, with VictorOps' placeholder at the end."""
    return f"{base_url.rstrip('/')}/integrations/{source.paths[0]}/{key}/$routing_key"


async def enable(
    bootstrap: str,
    topic: str,
    sources: dict[str, SourceInfo],
    source: str,
    org: str,
    base_url: str,
) -> EnabledIntegration:
    if source not in sources:
        raise IntegrationError(f"unknown source {source!r}; known: {', '.join(sorted(sources))}")
    if not ORG_PATTERN.match(org):
        raise IntegrationError(
            f"org {org!r}: use 1-64 lower-case letters, digits, '-' or '_', starting with a "
            "letter or digit"
        )
    key = new_key()
    item = Integration(new_key_id(), org, source, hash_key(key), int(time.time() * 1000))
    await publish_integration(bootstrap, topic, item)
    return EnabledIntegration(item, key, service_url(base_url, sources[source], key))


async def revoke(bootstrap: str, topic: str, key_id: str) -> tuple[Integration, bool]:
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
