"""Integration keys and routes of the ``dev`` org for ``make run``.

alertpipe keeps only key hashes, so to print the same service URLs on every ``make run`` the
dev keys themselves are kept in a local file (mode 600) beside the broker's state. Keys that
are no longer active in Kafka (wiped data, revoked) are replaced. The org gets one routing key
and a default route, so that the quick start's first alert reaches a team; routes an operator
set for it since are kept.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from alertpipe.jobs.integrations import enable, service_url
from ingest.keystore import read_integrations
from kafkaio.clients import KafkaTarget
from processors.routestore import publish_routes, read_routes
from processors.routing import RoutingConfig
from schemas.registry import SourceInfo

DEV_ORG = "dev"
# Amazon SNS keys name their topics; the dev org's takes any (signatures are still checked).
DEV_SNS_TOPICS = ("arn:*:sns:*:*:*",)
# The quick start's routing key (README) and where every other alert of the org goes.
DEV_ROUTES = RoutingConfig(DEV_ORG, routes={"ops": ("operations",)}, default_teams=("noc",))


def load_dev_keys(keys_file: Path) -> dict[str, str]:
    try:
        saved = json.loads(keys_file.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in saved.items()} if isinstance(saved, dict) else {}


def save_dev_keys(keys_file: Path, keys: dict[str, str]) -> None:
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = keys_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(keys, indent=2) + "\n")
    os.chmod(tmp, 0o600)
    tmp.replace(keys_file)


async def ensure_dev_keys(
    bootstrap: KafkaTarget,
    topic: str,
    sources: dict[str, SourceInfo],
    saved: dict[str, str],
    base_url: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """(service URL per source, key per source) for the dev org, creating keys where needed."""
    saved = dict(saved)
    table = await read_integrations(bootstrap, topic)
    urls: dict[str, str] = {}
    for name, info in sorted(sources.items()):
        if info.keys_from is not None:  # PagerDuty's change events: its alert events' key
            continue
        key = saved.get(name)
        if key is None or table.lookup(key, name) is None:
            topics = DEV_SNS_TOPICS if info.protocol == "amazon_sns" else ()
            done = await enable(
                bootstrap, topic, sources, name, DEV_ORG, base_url, topic_arns=topics
            )
            key = saved[name] = done.key
        urls[name] = service_url(base_url, info, key)
        if info.key_in_body:  # PagerDuty: the key goes in the body's routing_key
            urls[name] += f" (routing_key {key})"
    return urls, saved


async def ensure_dev_routes(bootstrap: KafkaTarget, topic: str) -> RoutingConfig:
    """The dev org's routing config: DEV_ROUTES unless the org has one already."""
    current = (await read_routes(bootstrap, topic)).get(DEV_ORG)
    if current is not None:
        return current
    await publish_routes(bootstrap, topic, DEV_ROUTES)
    return DEV_ROUTES


def routes_summary(config: RoutingConfig) -> str:
    """``ops -> operations; any other key -> noc``, for one line of ``make run``."""
    parts = [f"{key} -> {', '.join(teams)}" for key, teams in sorted(config.routes.items())]
    parts.append(f"any other key -> {', '.join(config.default_teams) or 'nobody'}")
    return "; ".join(parts)
