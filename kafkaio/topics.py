"""The contract topics: what they should look like (pure) and making them so (aiokafka admin)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka.admin import NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from kafkaio.admin import connected_admin, partitions_by_topic
from kafkaio.clients import KafkaTarget
from kafkaio.settings import TopicSettings
from kafkaio.worker_topics import internal_topics
from schemas.errors import AlertpipeError

# How long a maintenance window's record is kept (processors.maintenance.RETENTION_MS; kafkaio
# sits below processors, so the figure is repeated and a test keeps the two equal).
MAINTENANCE_MS = 90 * 24 * 3_600_000


class TopicCreationError(AlertpipeError, RuntimeError):
    """The broker refused to create a topic (e.g. replication factor above the broker count)."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicOutcome:
    name: str
    created: bool
    partitions: int
    # Set when an existing topic differs from its spec in a way we do not change for the user.
    warning: str | None = None


def topic_specs(settings: TopicSettings, worker_group: str | None = None) -> list[TopicSpec]:
    """The three topics of brief §4 plus the key, routing and maintenance topics, settings
    applied; with ``worker_group``, also that worker group's internal topics (quixstreams
    would create them at the worker's start, but without ``min.insync.replicas``)."""
    rf = settings.replication_factor
    base: dict[str, str] = {}
    if rf > 1:
        min_isr = settings.min_insync_replicas or max(1, rf - 1)
        base["min.insync.replicas"] = str(min(min_isr, rf))

    def spec(name: str, retention_ms: int) -> TopicSpec:
        return TopicSpec(name, settings.partitions, rf, {**base, "retention.ms": str(retention_ms)})

    # Integration keys and routing configs: compacted and never expired (a revocation or a
    # route must not age out).
    compacted = {**base, "cleanup.policy": "compact", "retention.ms": "-1"}
    specs = [
        spec(settings.raw, settings.raw_retention_ms),
        spec(settings.normalized, settings.normalized_retention_ms),
        spec(settings.dead_letter, settings.dead_letter_retention_ms),
        TopicSpec(settings.integrations, 1, rf, compacted),
        TopicSpec(settings.routes, 1, rf, compacted),
        # Maintenance windows: compacted (one record per window), and deleted after 90 days
        # (processors.maintenance.RETENTION_MS: a window lasts at most 30 days).
        TopicSpec(
            settings.maintenance,
            1,
            rf,
            {**base, "cleanup.policy": "compact,delete", "retention.ms": str(MAINTENANCE_MS)},
        ),
    ]
    if worker_group is not None:
        # As quixstreams derives them from the raw topic: its partitions and retention; the
        # changelog compacted, as quixstreams makes it.
        internal = internal_topics(worker_group, settings.raw)
        derived = {**base, "retention.ms": str(settings.raw_retention_ms), "retention.bytes": "-1"}
        specs.append(TopicSpec(internal.repartition, settings.partitions, rf, derived))
        changelog = {**derived, "cleanup.policy": "compact"}
        specs.append(TopicSpec(internal.changelog, settings.partitions, rf, changelog))
    return specs


async def ensure_topics(
    kafka: KafkaTarget, specs: list[TopicSpec], *, timeout: float = 15.0
) -> list[TopicOutcome]:
    """Create the missing topics; report existing ones untouched. Raises KafkaUnreachable."""
    async with connected_admin(kafka, timeout) as admin:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        raced: set[str] = set()
        if missing:
            new = [
                NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.configs)
                for s in missing
            ]
            response = await admin.create_topics(new, timeout_ms=int(timeout * 1000))
            refused = []
            for topic, code, *message in response.topic_errors:
                if code == TopicAlreadyExistsError.errno:
                    raced.add(topic)  # created concurrently by someone else: fine
                elif code != 0:
                    detail = (message[0] if message else None) or for_code(code).__name__
                    refused.append(f"{topic}: {detail}")
            if refused:
                raise TopicCreationError("Kafka refused to create " + "; ".join(refused))
        present = [s.name for s in specs if s.name in existing or s.name in raced]
        found = await partitions_by_topic(admin, present)
    outcomes = []
    for s in specs:
        if s.name in existing or s.name in raced:
            have = len(found.get(s.name, []))
            warning = (
                f"has {have} partitions, settings ask for {s.partitions} (left unchanged)"
                if have != s.partitions
                else None
            )
            outcomes.append(TopicOutcome(s.name, False, have, warning))
        else:
            outcomes.append(TopicOutcome(s.name, True, s.partitions))
    return outcomes
