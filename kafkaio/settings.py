"""Settings read once from the environment at the edge, then passed down frozen.

Every setting has an environment variable, a default and a one-line meaning; ``describe()``
prints them with secrets masked. The Kafka security settings (``kafkaio.security``) are part of
them, so the ingress, the worker and the CLI connect the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from kafkaio.clients import KafkaConnection, KafkaTarget, connection
from kafkaio.env import Env, SettingsError
from kafkaio.security import KafkaSecurity, load_security

DAY_MS = 24 * 60 * 60 * 1000
__all__ = ["DAY_MS", "TOPIC_ENV", "Settings", "SettingsError", "TopicSettings", "load_settings"]


@dataclass(frozen=True)
class TopicSettings:
    """Names and shapes of the three contract topics (brief §4)."""

    raw: str = "alerts.raw"
    normalized: str = "alerts.normalized"
    dead_letter: str = "alerts.dead-letter"
    # Compacted: one record per integration key id (hash, org, source, revoked?).
    integrations: str = "alertpipe.integrations"
    # Compacted: one record per org (its routing table, default route and rules).
    routes: str = "alertpipe.routes"
    # Compacted, records deleted after 90 days: one record per maintenance window (its
    # latest form: ``end`` rewrites it), so ended windows stay visible to replay and explain.
    maintenance: str = "alertpipe.maintenance"
    partitions: int = 6
    replication_factor: int = 1
    # None: derived from the replication factor (rf - 1, at least 1), see TopicSpec.
    min_insync_replicas: int | None = None
    # Replay depends on raw retention; dead letters are kept longer so they can be redriven.
    raw_retention_ms: int = 7 * DAY_MS
    normalized_retention_ms: int = 7 * DAY_MS
    dead_letter_retention_ms: int = 30 * DAY_MS


@dataclass(frozen=True)
class Settings:
    # None means "not configured": use the local broker this checkout manages.
    bootstrap_servers: str | None = None
    topics: TopicSettings = field(default_factory=TopicSettings)
    # Fixed source schemas (<source>.schema.json) that replace the built-in ones; None: none.
    schema_dir: Path | None = None
    # An operator's own source folders (<name>/<name>.schema.json, mapping.yaml, samples/),
    # served beside the built-in ones; None: the built-in ones only.
    sources_dir: Path | None = None
    # TLS and SASL of every Kafka client; PLAINTEXT by default.
    security: KafkaSecurity = field(default_factory=KafkaSecurity)

    def connection(self, bootstrap_servers: str) -> KafkaConnection:
        """How to reach the cluster at ``bootstrap_servers`` (this one's, or the local
        broker's) with these security settings."""
        return KafkaConnection(bootstrap_servers, self.security)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from ``env`` (default: ``os.environ``); raises SettingsError."""
    read = Env(os.environ if env is None else env)
    d = TopicSettings()
    topics = TopicSettings(
        raw=read.text(TOPIC_ENV["raw"], d.raw),
        normalized=read.text(TOPIC_ENV["normalized"], d.normalized),
        dead_letter=read.text(TOPIC_ENV["dead_letter"], d.dead_letter),
        integrations=read.text(TOPIC_ENV["integrations"], d.integrations),
        routes=read.text(TOPIC_ENV["routes"], d.routes),
        maintenance=read.text(TOPIC_ENV["maintenance"], d.maintenance),
        partitions=read.integer("ALERTPIPE_TOPIC_PARTITIONS", d.partitions, low=1),
        replication_factor=read.integer(
            "ALERTPIPE_REPLICATION_FACTOR", d.replication_factor, low=1
        ),
        min_insync_replicas=(
            read.integer("ALERTPIPE_MIN_INSYNC_REPLICAS", 1, low=1)
            if read.optional("ALERTPIPE_MIN_INSYNC_REPLICAS")
            else None
        ),
        raw_retention_ms=read.integer("ALERTPIPE_RAW_RETENTION_MS", d.raw_retention_ms, low=1),
        normalized_retention_ms=read.integer(
            "ALERTPIPE_NORMALIZED_RETENTION_MS", d.normalized_retention_ms, low=1
        ),
        dead_letter_retention_ms=read.integer(
            "ALERTPIPE_DEAD_LETTER_RETENTION_MS", d.dead_letter_retention_ms, low=1
        ),
    )
    names = (
        topics.raw,
        topics.normalized,
        topics.dead_letter,
        topics.integrations,
        topics.routes,
        topics.maintenance,
    )
    for name in names:
        if not name or len(name) > 249:
            raise SettingsError(f"topic name {name!r} must be 1-249 characters")
    if len(set(names)) != len(names):
        raise SettingsError(
            "topic names must differ (raw, normalized, dead-letter, integrations, routes, "
            "maintenance)"
        )
    return Settings(
        bootstrap_servers=read.optional("KAFKA_BOOTSTRAP_SERVERS"),
        topics=topics,
        schema_dir=read.directory("ALERTPIPE_SCHEMA_DIR"),
        sources_dir=read.directory("ALERTPIPE_SOURCES_DIR"),
        security=load_security(read),
    )


TOPIC_ENV = {
    "raw": "ALERTPIPE_TOPIC_RAW",
    "normalized": "ALERTPIPE_TOPIC_NORMALIZED",
    "dead_letter": "ALERTPIPE_TOPIC_DEAD_LETTER",
    "integrations": "ALERTPIPE_TOPIC_INTEGRATIONS",
    "routes": "ALERTPIPE_TOPIC_ROUTES",
    "maintenance": "ALERTPIPE_TOPIC_MAINTENANCE",
}


def prefixed_topics(prefix: str, **overrides: int) -> TopicSettings:
    """Topic names ``<prefix>.raw``, ``<prefix>.normalized``, ... for every topic alertpipe
    uses: isolated topics for a test, a benchmark or a second pipeline on one cluster."""
    names = {name: f"{prefix}.{name}" for name in TOPIC_ENV}
    return TopicSettings(**names, **overrides)  # type: ignore[arg-type]


def kafka_env(kafka: KafkaTarget, topics: TopicSettings) -> dict[str, str]:
    """The environment that makes a child process (ingress, worker, CLI) use this cluster, its
    security settings and these topic names: the inverse of ``load_settings`` for them."""
    env = connection(kafka).env()
    env.update({var: getattr(topics, name) for name, var in TOPIC_ENV.items()})
    return env


def describe(settings: Settings) -> dict[str, object]:
    """A flat, printable view of the settings, secrets masked."""
    out: dict[str, object] = {"bootstrap_servers": settings.bootstrap_servers or "(local broker)"}
    out.update(settings.security.describe())
    out["schema_dir"] = str(settings.schema_dir or "(built-in schemas)")
    out["sources_dir"] = str(settings.sources_dir or "(built-in sources only)")
    for f in fields(settings.topics):
        out[f"topics.{f.name}"] = getattr(settings.topics, f.name)
    return out
